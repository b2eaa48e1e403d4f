"""A small outside system for tests: counts POSTs by Idempotency-Key, can be told to hang."""
from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, jsonify, request


def create_target() -> Flask:
    app = Flask("target")
    state: dict[str, Any] = {"posts": [], "hold_seconds": 0.0, "fail_next": 0, "lock": threading.Lock()}
    app.extensions["target"] = state

    @app.post("/records")
    def post() -> Any:
        with state["lock"]:
            if state["fail_next"] > 0:
                state["fail_next"] -= 1
                return "upstream trouble", 503
            key = request.headers.get("Idempotency-Key", "")
            state["posts"].append({"key": key, "json": request.get_json(silent=True)})
            record_id = len(state["posts"])
        # Recorded first, answered later: a client killed meanwhile has written without knowing it.
        time.sleep(state["hold_seconds"])
        return jsonify({"id": record_id})

    @app.get("/records/<path:key>")
    def lookup(key: str) -> Any:
        for i, post in enumerate(state["posts"], start=1):
            if post["key"] == key:
                return jsonify({"id": i})
        return jsonify({"error": "not found"}), 404

    @app.get("/control")
    def show() -> Any:
        return jsonify({"posts": state["posts"], "hold_seconds": state["hold_seconds"]})

    @app.post("/control")
    def control() -> Any:
        body = request.get_json(force=True)
        for name in ("hold_seconds", "fail_next"):
            if name in body:
                state[name] = body[name]
        return jsonify({"ok": True})

    return app

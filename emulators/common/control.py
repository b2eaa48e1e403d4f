"""Bits every finance emulator repeats: seed reading, the JSON app, request counting, knob plumbing, the common
`/_emulator/` routes.

Each emulator keeps its own state object, but reset/state/request-counter/knobs/clock endpoints
behave the same everywhere so a test harness can drive all of them one way.
"""
from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import yaml
from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from emulators.common.clock import Clock, steer


def read_seed(seed: dict[str, Any] | str | Path | None, default: Path) -> dict[str, Any]:
    """A seed given as a dict stays as it is; a YAML path (or None for `default`) is read."""
    if isinstance(seed, dict):
        return seed
    with open(seed or default, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def json_app(name: str, state: Any) -> Flask:
    """A Flask app answering JSON as the real APIs do (Cyrillic as is, keys in written order), holding `state`."""
    app = Flask(name)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[name] = state
    return app


class RequestCounter:
    """Counts API requests (not `/_emulator/` ones) by "METHOD path-rule"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def hit(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self._counts.values()), "by_route": dict(self._counts)}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def is_control_path(path: str) -> bool:
    return path.startswith("/_emulator/")


def install_control(app: Flask, *, counter: RequestCounter, clock: Clock, get_knobs: Callable[[], BaseModel],
                    set_knobs: Callable[[BaseModel], None], reset: Callable[[], None],
                    dump: Callable[[], dict[str, Any]]) -> None:
    """Register the shared control routes and a before-request hook that counts API calls."""

    @app.before_request
    def _count() -> None:
        if not is_control_path(request.path):
            rule = request.url_rule.rule if request.url_rule else request.path
            counter.hit(f"{request.method} {rule}")

    @app.post("/_emulator/reset")
    def _reset() -> Response:
        reset()
        counter.reset()
        return jsonify({"reset": True})

    @app.get("/_emulator/state")
    def _state() -> Response:
        return jsonify(dump())

    @app.get("/_emulator/requests")
    def _requests() -> Response:
        return jsonify(counter.snapshot())

    @app.route("/_emulator/knobs", methods=["GET", "POST"])
    def _knobs() -> Response | tuple[Response, int]:
        if request.method == "POST":
            current = get_knobs()
            try:
                changes = request.get_json(silent=True) or {}
                updated = type(current).model_validate({**current.model_dump(), **changes})
            except ValidationError as exc:
                return jsonify({"error": exc.errors(include_url=False, include_context=False)}), 400
            set_knobs(updated)
        return jsonify(get_knobs().model_dump())

    @app.route("/_emulator/clock", methods=["GET", "POST"])
    def _clock() -> Response | tuple[Response, int]:
        body = (request.get_json(silent=True) or {}) if request.method == "POST" else {}
        try:
            return jsonify(steer(clock, body))
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 409

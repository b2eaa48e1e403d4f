"""Kontur.Diadoc API emulator (JSON mode): `GET /V8/GetNewEvents`, `GET /V3/GetDocument`, Bearer auth,
402/429 modes, and control routes to send documents and have the counterparty sign or reject them."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, Field

from emulators.common.clock import Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, is_control_path, json_app, read_seed
from emulators.diadoc.state import DiadocState, seq_of

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"


class Knobs(BaseModel):
    page_size: int = Field(100, ge=1, le=100, description="events per GetNewEvents page (Diadoc: 100)")
    fail_next: int = Field(0, ge=0, description="answer the next N API requests with fail_status")
    fail_status: int = Field(429, description="402 (subscription expired), 429 (overload) or a 5xx")


def _error(status: int, text: str) -> Response:
    response = Response(text, status=status, content_type="text/plain; charset=utf-8")
    return response


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None) -> Flask:
    data = read_seed(seed, DEFAULT_SEED)
    clock = clock or SystemClock()
    holder: dict[str, Any] = {}
    lock = threading.Lock()

    def load() -> None:
        state = DiadocState(clock, str(data["box_id"]), set(data.get("tokens", [])))
        for doc in data.get("documents", []):
            sent = state.send(doc["title"], str(doc["number"]), str(doc["date"]), doc["counterparty_box"],
                              doc.get("type_named_id", "Nonformalized"), doc.get("message_id"), doc.get("entity_id"))
            if doc.get("status") in ("signed", "rejected"):
                state.answer(sent.message_id, doc["status"] == "signed")
        holder["state"], holder["knobs"] = state, holder.get("knobs") or Knobs()

    load()
    app = json_app("diadoc", holder)
    counter = RequestCounter()

    def set_knobs(knobs: BaseModel) -> None:
        holder["knobs"] = knobs

    def reset() -> None:
        holder["knobs"] = Knobs()
        load()

    install_control(app, counter=counter, clock=clock, get_knobs=lambda: holder["knobs"], set_knobs=set_knobs, reset=reset,
                    dump=lambda: {"events": len(holder["state"].events),
                                  "documents": [d.as_json(holder["state"].box_id) for d in holder["state"].documents.values()]})

    @app.before_request
    def gate() -> Response | None:
        if is_control_path(request.path):
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if token not in holder["state"].tokens:
            return _error(401, "Unauthorized: invalid or missing access token")
        with lock:
            knobs = holder["knobs"]
            if knobs.fail_next > 0:
                holder["knobs"] = knobs.model_copy(update={"fail_next": knobs.fail_next - 1})
                return _error(knobs.fail_status, {402: "Payment Required: API subscription expired",
                                                  429: "Too Many Requests"}.get(knobs.fail_status, "Internal Server Error"))
        return None

    def box() -> DiadocState | Response:
        state: DiadocState = holder["state"]
        if request.args.get("boxId") != state.box_id:
            return _error(403, f"Access to box {request.args.get('boxId')!r} is denied")
        return state

    @app.get("/V8/GetNewEvents")
    def get_new_events() -> Response:
        state = box()
        if isinstance(state, Response):
            return state
        after = request.args.get("afterIndexKey")
        try:
            start = seq_of(after) if after else 0
        except ValueError as exc:
            return _error(400, str(exc))
        events = state.page(start, holder["knobs"].page_size)
        return jsonify({"Events": events, "TotalCount": len(state.events) - start})

    @app.get("/V3/GetDocument")
    def get_document() -> Response:
        state = box()
        if isinstance(state, Response):
            return state
        doc = state.documents.get((request.args.get("messageId", ""), request.args.get("entityId", "")))
        if doc is None:
            return _error(404, "Document not found")
        return jsonify(doc.as_json(state.box_id))

    @app.post("/_emulator/documents")
    def send_document() -> Response:
        body = request.get_json(force=True)
        doc = holder["state"].send(body["title"], str(body["number"]), str(body["date"]), body.get("counterparty_box", "counterparty-box@diadoc.ru"),
                                   body.get("type_named_id", "Nonformalized"))
        return jsonify(doc.as_json(holder["state"].box_id))

    @app.post("/_emulator/documents/<message_id>/<answer>")
    def answer_document(message_id: str, answer: str) -> Response | tuple[Response, int]:
        if answer not in ("sign", "reject"):
            return jsonify({"error": "answer is sign or reject"}), 404
        try:
            doc = holder["state"].answer(message_id, answer == "sign")
        except KeyError:
            return jsonify({"error": f"no message {message_id}"}), 404
        return jsonify(doc.as_json(holder["state"].box_id))

    return app

"""Fintablo API emulator (api.fintablo.ru/v1): Bearer auth, `{"status","items"}` envelopes, 300 req/min.

Routing is generic over `schema.ENTITIES` because every Fintablo collection answers the same five
verbs with the same envelopes; only transactions (split/confirm) and deals (stages) add routes.
"""
from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, Field

from emulators.common.clock import Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, is_control_path, json_app, read_seed
from emulators.common.faults import FaultInjector
from emulators.common.ratelimit import SlidingWindowLimiter
from emulators.fintablo.schema import (ENTITIES, INVALID_CREDENTIALS, INVALID_TYPE, TOO_MANY, UNKNOWN_METHOD,
                                       ApiError)
from emulators.fintablo.store import FintabloStore

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"


class Knobs(BaseModel):
    """Run-time switches, steered at `/_emulator/knobs`."""

    rate_limit: int = Field(300, ge=0, description="requests per window per token (Fintablo: 300 a minute)")
    rate_window: float = Field(60.0, gt=0)
    force_429: int = Field(0, ge=0, description="answer the next N API requests with 429 regardless of the limit")


class FintabloEmulator:
    """State behind one app: store, limiter, knobs, counters."""

    def __init__(self, seed: dict[str, Any], clock: Clock) -> None:
        self.clock = clock
        self.store = FintabloStore(seed, clock)
        self.knobs = Knobs()
        self.limiter = SlidingWindowLimiter(self.knobs.rate_limit, self.knobs.rate_window, clock)
        self.counter = RequestCounter()
        self._lock = threading.Lock()

    def take_forced_429(self) -> bool:
        """Consume one of the `force_429` answers, if any are left."""
        with self._lock:
            if self.knobs.force_429 <= 0:
                return False
            self.knobs.force_429 -= 1
            return True

    def set_knobs(self, knobs: BaseModel) -> None:
        assert isinstance(knobs, Knobs)
        self.knobs = knobs
        self.limiter.configure(knobs.rate_limit, knobs.rate_window)

    def reset(self) -> None:
        self.store.load(self.store.seed)
        self.limiter.reset()
        self.set_knobs(Knobs())


def _answer(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _error(status: int, text: str) -> Response:
    return _answer(status, {"status": status, "statusText": text})


def _ok(items: list[dict[str, Any]] | None = None) -> Response:
    return _answer(200, {"status": 200} if items is None else {"status": 200, "items": items})


def _int_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise ApiError(400, UNKNOWN_METHOD)
    return int(raw)


def _page(args: dict[str, str], name: str, default: int) -> int:
    try:
        return max(int(args.get(name, default)), 1)
    except ValueError:
        raise ApiError(400, INVALID_TYPE) from None


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None) -> Flask:
    """A Fintablo emulator; `seed` is a dict, a YAML path, or None for seeds/demo.yaml."""
    emu = FintabloEmulator(read_seed(seed, DEFAULT_SEED), clock or SystemClock())
    app = json_app("fintablo", emu)

    install_control(app, counter=emu.counter, clock=emu.clock, get_knobs=lambda: emu.knobs,
                    set_knobs=emu.set_knobs, reset=emu.reset, dump=emu.store.dump)

    @app.before_request
    def gate() -> Response | None:
        g.request_id = uuid.uuid4().hex
        if is_control_path(request.path):
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if token not in emu.store.tokens:
            return _error(401, INVALID_CREDENTIALS)
        if emu.take_forced_429() or not emu.limiter.hit(token).allowed:
            return _error(429, TOO_MANY)
        return None

    @app.after_request
    def trace(response: Response) -> Response:
        if not is_control_path(request.path):
            response.headers["X-Request-Id"] = getattr(g, "request_id", uuid.uuid4().hex)
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return _error(exc.status, exc.text)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def unknown(_: Exception) -> Response:
        if request.method in ("PUT", "DELETE") and request.path.rstrip("/").count("/") == 2:
            return _error(400, "ID is required")
        return _error(400, UNKNOWN_METHOD)

    def body() -> Any:
        return request.get_json(silent=True, force=True)

    def entity_or_404(name: str) -> str:
        if name not in ENTITIES:
            raise ApiError(400, UNKNOWN_METHOD)
        return name

    @app.get("/v1/<name>")
    def list_items(name: str) -> Response:
        path = entity_or_404(name)
        args = request.args.to_dict()
        items = emu.store.list(path, args)
        if path == "transaction":
            size = min(_page(args, "pageSize", 50), 1000)
            page = _page(args, "page", 1)
            items = items[(page - 1) * size: page * size]
        elif ENTITIES[path].paged:
            size, page = ENTITIES[path].paged or 0, _page(args, "page", 1)
            items = items[(page - 1) * size: page * size]
        return _ok(items)

    @app.post("/v1/<name>")
    def create_item(name: str) -> Response:
        return _ok(emu.store.create(entity_or_404(name), body()))

    @app.get("/v1/<name>/<item_id>")
    def get_item(name: str, item_id: str) -> Response:
        return _ok([emu.store.get(entity_or_404(name), _int_id(item_id))])  # type: ignore[arg-type]

    @app.put("/v1/<name>/<item_id>")
    def put_item(name: str, item_id: str) -> Response:
        return _ok(emu.store.update(entity_or_404(name), _int_id(item_id), body()))

    @app.delete("/v1/<name>/<item_id>")
    def delete_item(name: str, item_id: str) -> Response:
        emu.store.delete(entity_or_404(name), _int_id(item_id))
        return _ok()

    @app.post("/v1/transaction/<item_id>/split")
    def split(item_id: str) -> Response:
        return _ok(emu.store.split(_int_id(item_id), body()))  # type: ignore[arg-type]

    @app.post("/v1/transaction/<item_id>/unsplit")
    def unsplit(item_id: str) -> Response:
        return _ok(emu.store.unsplit(_int_id(item_id), body()))  # type: ignore[arg-type]

    @app.post("/v1/transaction/<item_id>/confirm")
    def confirm(item_id: str) -> Response:
        return _ok(emu.store.confirm(_int_id(item_id), body()))  # type: ignore[arg-type]

    @app.post("/v1/deal/<item_id>/add-stage")
    def add_stage(item_id: str) -> Response:
        return _ok(emu.store.add_stage(_int_id(item_id), body()))  # type: ignore[arg-type]

    app.wsgi_app = FaultInjector(app.wsgi_app)  # type: ignore[method-assign]
    return app

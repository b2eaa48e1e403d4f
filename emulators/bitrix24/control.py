"""Control endpoints under `/_emulator/`: steer and inspect the portal from tests and the sandbox.

Never rate-limited, never faulted, never counted as REST traffic. Bodies are plain JSON (not PHP
JSON): these are the emulator's own API, not Bitrix24's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from flask import Flask, Response, jsonify, request
from pydantic import ValidationError

from .events import DeliverySettings
from .limits import LimitSettings
from .portal import PortalConfig

if TYPE_CHECKING:
    from .portal import Portal


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _bad(exc: Exception) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


def register_control(app: Flask, portal: "Portal") -> None:
    """Attach every /_emulator/ route to `app`."""

    def webhook_url() -> str:
        cfg = portal.config
        return f"{request.host_url}rest/{cfg.webhook_user_id}/{cfg.webhook_code}/"

    @app.get("/_emulator/")
    def index() -> Response:
        return jsonify({"webhook_url": webhook_url(), "application_token": portal.config.application_token,
                        "endpoints": sorted(str(r) for r in app.url_map.iter_rules() if "/_emulator/" in str(r))})

    @app.post("/_emulator/reset")
    def reset() -> Response:
        portal.reset(reseed=bool(_body().get("seed", True)))
        return jsonify({"ok": True})

    @app.post("/_emulator/seed")
    def seed() -> Response | tuple[Response, int]:
        from .seed import apply_seed
        data = request.get_json(silent=True)
        if data is None:
            data = yaml.safe_load(request.get_data(as_text=True) or "{}")
        if not isinstance(data, dict):
            return _bad(ValueError("seed must be a mapping"))
        apply_seed(portal, data)
        return jsonify({"ok": True})

    @app.get("/_emulator/webhook")
    def webhook_get() -> Response:
        return jsonify({**portal.config.model_dump(), "webhook_url": webhook_url()})

    @app.post("/_emulator/webhook")
    def webhook_set() -> Response | tuple[Response, int]:
        try:
            portal.config = PortalConfig(**{**portal.config.model_dump(), **_body()})
        except ValidationError as exc:
            return _bad(exc)
        return jsonify({**portal.config.model_dump(), "webhook_url": webhook_url()})

    @app.get("/_emulator/handlers")
    def handlers_get() -> Response:
        return jsonify([h.as_dict() for h in portal.handlers])

    @app.post("/_emulator/handlers")
    def handlers_add() -> Response | tuple[Response, int]:
        body = _body()
        entries = body.get("handlers") if isinstance(body.get("handlers"), list) else [body]
        added = []
        for entry in entries:
            if not entry.get("event") or not entry.get("url"):
                return _bad(ValueError("each handler needs 'event' and 'url'"))
            added.append(portal.add_handler(str(entry["event"]), str(entry["url"]),
                                            entry.get("application_token"), entry.get("id")).as_dict())
        return jsonify(added)

    @app.delete("/_emulator/handlers")
    def handlers_clear() -> Response:
        return jsonify({"removed": portal.remove_handlers(request.args.get("event"))})

    @app.delete("/_emulator/handlers/<int:handler_id>")
    def handler_delete(handler_id: int) -> Response:
        return jsonify({"removed": portal.remove_handlers(handler_id=handler_id)})

    @app.get("/_emulator/events/settings")
    def delivery_get() -> Response:
        return jsonify(portal.events.settings.model_dump())

    @app.post("/_emulator/events/settings")
    def delivery_set() -> Response | tuple[Response, int]:
        try:
            portal.configure_delivery(DeliverySettings.model_validate(_body()))
        except ValidationError as exc:
            return _bad(exc)
        return jsonify(portal.events.settings.model_dump())

    @app.get("/_emulator/events/log")
    def events_log() -> Response:
        log = portal.events.snapshot_log()
        if request.args.get("event"):
            log = [e for e in log if e["event"] == request.args["event"].upper()]
        return jsonify({"pending": portal.events.pending(), "events": log})

    @app.delete("/_emulator/events/log")
    def events_log_clear() -> Response:
        portal.events.clear()
        return jsonify({"ok": True})

    @app.post("/_emulator/events/flush")
    def events_flush() -> Response:
        done = portal.events.flush(timeout=float(request.args.get("timeout", _body().get("timeout", 10))))
        return jsonify({"flushed": done, "pending": portal.events.pending()})

    @app.get("/_emulator/limits")
    def limits_get() -> Response:
        return jsonify({**portal.limits.settings.model_dump(), "level": portal.limits.level(request.remote_addr or "")})

    @app.post("/_emulator/limits")
    def limits_set() -> Response | tuple[Response, int]:
        body, current = _body(), portal.limits.settings.model_dump()
        if ("burst" in body or "rate" in body) and "plan" not in body:
            body["plan"] = "custom"  # explicit numbers mean "not a named plan"
        if isinstance(body.get("operating"), dict):
            body["operating"] = {**current["operating"], **body["operating"]}
        try:
            settings = LimitSettings.model_validate({**current, **body})
        except ValidationError as exc:
            return _bad(exc)
        portal.limits.configure(settings)
        return jsonify(portal.limits.settings.model_dump())

    @app.get("/_emulator/requests")
    def requests_get() -> Response:
        return jsonify(portal.counter.snapshot())

    @app.delete("/_emulator/requests")
    def requests_reset() -> Response:
        portal.counter.reset()
        return jsonify({"ok": True})

    @app.get("/_emulator/notifications")
    def notifications() -> Response:
        rows = portal.store.all("NOTIFY")
        return jsonify(rows)

    @app.get("/_emulator/state")
    def state() -> Response:
        with portal.store.lock:
            counts = {kind: len(rows) for kind, rows in portal.store.records.items()}
        return jsonify({"records": counts, "userfields": len(portal.store.userfields),
                        "handlers": len(portal.handlers), "events_pending": portal.events.pending()})

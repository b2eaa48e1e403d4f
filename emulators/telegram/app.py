"""`create_app`: the Flask app that serves the Bot API, file downloads and the /_emulator controls.

State lives in `app.extensions["telegram"]` (a TelegramState) so in-process tests can reach the
clock, settings and chats directly; the FaultInjector around the WSGI app is in
`app.extensions["telegram_faults"]` and steered at /_emulator/faults.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from emulators.common.faults import FaultInjector, FaultSettings

from . import api, control
from .clock import Clock
from .errors import ApiError
from .knobs import EmulatorSettings
from .limits import LimitSettings
from .seed import apply_seed, load_seed
from .state import TelegramState


def create_app(seed: str | Path | dict[str, Any] | None = None, bots: Iterable[str] = (),
               clock: Clock | None = None, settings: EmulatorSettings | None = None,
               limits: LimitSettings | None = None, faults: FaultSettings | None = None) -> Flask:
    """A Telegram Bot API emulator; `seed` is a seed file or dict, `bots` extra tokens to accept."""
    app = Flask("emulators.telegram")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    state = TelegramState(clock=clock, settings=settings, limits=limits)
    plan = dict(load_seed(seed)) if seed is not None else {}
    seeded = {str(b["token"]) for b in plan.get("bots") or []}
    plan["bots"] = list(plan.get("bots") or []) + [{"token": t} for t in bots if t not in seeded]
    apply_seed(state, plan)  # remembered: POST /_emulator/reset comes back here
    state.reply_executor = lambda bot, body: api.run_webhook_reply(state, bot, body)
    app.extensions["telegram"] = state
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        # The real server answers unknown paths with its JSON envelope, not an HTML page.
        code = exc.code or 500
        text = "Not Found" if code == 404 else (exc.name or "Error")
        return api.error_response(ApiError(code, text))

    injector = FaultInjector(app.wsgi_app, faults)
    app.wsgi_app = injector  # type: ignore[method-assign]
    app.extensions["telegram_faults"] = injector
    return app

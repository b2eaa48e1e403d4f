"""The Planfix REST v2 emulator as a Flask app: `create_app(...)`, state at `app.extensions["planfix"]`.

Every `/rest/...` request passes, in order: request counter, due 202-queued updates, bearer
token (or `access_token` for GET), the 1 req/s and daily limits, a scripted-error knob and the
token's scope; answers are JSON with `X-RateLimit-Remaining`. `/_emulator/...` skips all that.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from emulators.common.faults import FaultInjector

from . import control, routes_comments, routes_files, routes_people, routes_refdata, routes_tasks
from .clock import Clock, SystemClock
from .dispatcher import Dispatcher
from .errors import ApiError, scope_denied, unknown_token
from .http import fail, json_response
from .knobs import Knobs
from .limits import RateLimiter
from .routes_tasks import apply_deferred
from .scenarios import ScenarioEngine
from .seed import load_seed_file
from .state import PlanfixState

BASE = "/rest"
DEFAULT_TOKEN = "5d80e21cb3e12345678bdd568a2226d5"


def create_app(seed: str | Path | dict[str, Any] | None = None, *, token: str | None = None,
               clock: Clock | None = None, rate_limit: bool = False, hook_base: str | None = None,
               knobs: Knobs | dict[str, Any] | None = None) -> Flask:
    """Build an emulator; `seed` is a YAML path or an already-loaded dict (default: the demo account).

    `token` adds one full-access token acting as the lowest-numbered employee (the seed's robot).
    `hook_base` prefixes scenario URLs that start with "/" (e.g. the relay's base URL).
    """
    data = seed if isinstance(seed, dict) else load_seed_file(seed)
    settings = knobs if isinstance(knobs, Knobs) else Knobs.model_validate(knobs or {})
    if rate_limit:
        settings = settings.model_copy(update={"rate_limit": True})
    st = PlanfixState(data, clock or SystemClock(), token=token, knobs=settings, hook_base=hook_base)
    st.initial_knobs = settings
    st.dispatcher = Dispatcher(st.clock, lambda: st.knobs)
    st.scenarios = ScenarioEngine(st, st.dispatcher)
    limiter = RateLimiter(st.clock, lambda: st.knobs, float((data.get("account") or {}).get("utc_offset_hours", 0)))

    app = Flask("planfix-emulator")
    app.extensions["planfix"] = st
    app.extensions["planfix_limiter"] = limiter
    for module in (routes_tasks, routes_comments, routes_people, routes_refdata, routes_files):
        app.register_blueprint(module.bp, url_prefix=BASE)
    app.register_blueprint(routes_files.storage)
    app.register_blueprint(control.bp)

    @app.before_request
    def guard() -> Response | None:
        if not request.path.startswith(BASE + "/"):
            return None
        rule = request.url_rule.rule if request.url_rule else request.path
        st.count(f"{request.method} {rule}")
        apply_deferred(st)
        g.actor = _authenticate(st)
        limiter.hit()
        _scripted_error(st)
        view = app.view_functions.get(request.endpoint or "")
        needed = getattr(view, "scope", None)
        scopes = g.scopes
        if needed and scopes is not None and needed not in scopes:
            raise scope_denied()
        return None

    @app.after_request
    def remaining(response: Response) -> Response:
        if request.path.startswith(BASE + "/"):
            response.headers["X-RateLimit-Remaining"] = str(limiter.remaining())
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return fail(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if request.path.startswith(BASE + "/"):
            return json_response({"result": "fail", "code": 0, "error": "Rest API error"}, exc.code or 500)
        return exc.get_response()

    app.wsgi_app = FaultInjector(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _authenticate(st: PlanfixState) -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token and request.method == "GET":
        token = request.args.get("access_token", "")
    with st.lock:
        entry = st.tokens.get(token) if token else None
    if entry is None:
        raise unknown_token()
    g.scopes = entry.get("scopes")
    return str(entry["user"])


def _scripted_error(st: PlanfixState) -> None:
    with st.lock:
        script = list(st.knobs.error_script)
        for i, item in enumerate(script):
            if item.path in request.path:
                del script[i]
                st.knobs = st.knobs.model_copy(update={"error_script": script})
                raise ApiError(item.status, item.code, item.error)

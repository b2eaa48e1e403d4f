"""The Flask app: Bitrix24's REST transport in front of the emulated portal.

`/rest/{user_id}/{code}/{method}[.json]` like an incoming webhook; parameters read the PHP way
(query + form, or a JSON body only for `Content-Type: application/json`); answers in PHP JSON with
`time`, or an error body with the status the real portal uses. Fault injection wraps everything
except `/_emulator/`. State lives in `app.extensions["bitrix24"]` (a Portal).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from flask import Flask, Response, request

from emulators.common.faults import FaultInjector, FaultSettings

from . import errors
from .control import register_control
from .dispatch import invoke, normalize_method
from .limits import LimitSettings, OperatingSettings
from .methods import load_all
from .php import listify, parse_pairs, parse_str, php_json
from .portal import Portal, PortalConfig
from .seed import load_seed

JSON_TYPE = "application/json; charset=utf-8"


def respond(body: Any, status: int = 200) -> Response:
    return Response(php_json(body), status=status, content_type=JSON_TYPE)


def _as_params(value: Any) -> dict[str, Any]:
    """Top-level parameters are always a map (a PHP array keyed 0..n-1 arrives here as a list)."""
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return value if isinstance(value, dict) else {}


def read_params() -> dict[str, Any]:
    """CRestUtil::getRequestData: query + form fields; with no form fields, the raw POST body
    (JSON only when the Content-Type is exactly application/json, else parse_str). Body wins."""
    params = _as_params(parse_str(request.query_string.decode("utf-8", "replace")))
    if request.method != "POST":
        return params
    mimetype = (request.mimetype or "").lower()
    body: dict[str, Any] = {}
    if mimetype == "multipart/form-data":
        body = _as_params(parse_pairs(request.form.items(multi=True)))
    else:
        raw = request.get_data(cache=True).decode("utf-8", "replace")
        if mimetype == "application/x-www-form-urlencoded":
            body = _as_params(parse_str(raw))
        if not body and raw:
            if mimetype == "application/json":
                try:
                    body = _as_params(listify(json.loads(raw)))
                except ValueError:
                    body = {}  # bad JSON gives empty params
            else:
                body = _as_params(parse_str(raw))
    return {**params, **body}


def handle_rest(portal: Portal, method_path: str, user_id: str | None, code: str | None) -> Response:
    method = normalize_method(method_path)
    if method.endswith(".xml"):
        method = method[:-4]  # XML output is not emulated; such calls get JSON
    portal.counter.hit(method)
    try:
        if portal.limits.settings.blocked:
            raise errors.overload_limit()
        if not portal.limits.admit(request.remote_addr or "local"):
            raise errors.query_limit_exceeded()
        cfg = portal.config
        forwarded = request.headers.get("X-Forwarded-Proto", request.scheme)
        if cfg.require_https and forwarded != "https":
            raise errors.https_required()
        params = read_params()
        if user_id is None:  # /rest/{method}?auth=...: OAuth applications are not emulated
            raise errors.no_auth_found()
        if user_id != str(cfg.webhook_user_id) or code != cfg.webhook_code:
            raise errors.invalid_credentials()
        start = params.pop("start", None)
        reply, timing = invoke(portal, method, params, start)
    except errors.RestError as exc:
        if exc.code in ("QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT"):
            portal.counter.reject(exc.code)
        return respond(exc.body(), exc.status)
    body: dict[str, Any] = {"result": reply.result}
    if reply.next is not None:
        body["next"] = reply.next
    if reply.total is not None:
        body["total"] = reply.total
    body["time"] = timing
    return respond(body)


def create_app(seed: str | Path | dict[str, Any] | None = None, *, webhook_user_id: int | None = None,
               webhook_code: str | None = None, application_token: str | None = None,
               domain: str | None = None, timezone: str | None = None, scopes: list[str] | None = None,
               rate_limit: bool | LimitSettings = True, plan: str = "standard", burst: float | None = None,
               rate: float | None = None, operating: OperatingSettings | None = None,
               clock: Callable[[], float] | None = None, faults: FaultSettings | None = None,
               post: Callable[..., Any] | None = None) -> Flask:
    """Build an emulated portal. Explicit arguments beat the seed's `portal:` section, which beats defaults.

    `rate_limit` may be False (off), True (the `plan`'s numbers, or `burst`/`rate` if given) or a full
    LimitSettings. `clock` (unix seconds) drives timestamps, event `ts` and both limits, so tests can
    move time instead of sleeping. `post` replaces requests.post for event delivery.
    """
    load_all()
    seed_data = load_seed(seed)
    overrides = {k: v for k, v in {"webhook_user_id": webhook_user_id, "webhook_code": webhook_code,
                                   "application_token": application_token, "domain": domain,
                                   "timezone": timezone, "scopes": scopes}.items() if v is not None}
    config = PortalConfig(**{**(seed_data or {}).get("portal", {}), **overrides})
    if isinstance(rate_limit, LimitSettings):
        limits = rate_limit
    else:
        custom = burst is not None or rate is not None
        limits = LimitSettings(rate_limit=bool(rate_limit), plan="custom" if custom else plan,  # type: ignore[arg-type]
                               burst=burst or 50.0, rate=rate or 2.0)
    if operating is not None:
        limits = limits.model_copy(update={"operating": operating})
    portal = Portal(config, seed=seed_data, limits=limits, clock=clock, post=post)

    app = Flask("emulators.bitrix24")
    app.extensions["bitrix24"] = portal

    @app.route("/rest/<user_id>/<code>/<path:method>", methods=["GET", "POST"])
    def webhook_call(user_id: str, code: str, method: str) -> Response:
        return handle_rest(portal, method, user_id, code)

    @app.route("/rest/<method>", methods=["GET", "POST"])
    def oauth_call(method: str) -> Response:
        return handle_rest(portal, method, None, None)

    register_control(app, portal)
    injector = FaultInjector(app.wsgi_app, faults)
    app.wsgi_app = injector  # type: ignore[method-assign]
    portal.faults = injector  # type: ignore[attr-defined]
    return app


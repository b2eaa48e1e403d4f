"""Tochka Bank Open API emulator: accounts, async statements, webhook management, OAuth token, JWK.

Routes are served under the production prefix `/uapi` and the sandbox prefix `/sandbox/v2`
(where the literal `sandbox.jwt.token` is accepted); `/connect/token` and the public-key path sit
at the root as on enter.tochka.com.
"""
from __future__ import annotations

from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, g, jsonify, request

from emulators.common.clock import Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, json_app, read_seed
from emulators.common.faults import FaultInjector
from emulators.tochka import shapes
from emulators.tochka.control import install_tochka_control
from emulators.tochka.oauth import install_oauth
from emulators.tochka.signing import public_jwk, sign_webhook
from emulators.tochka.state import TochkaState

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"


class TochkaError(Exception):
    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def _json(data: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def _require(permission: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Bearer check (401), consent switch (403 Forbidden by consent), then the permission (403)."""
    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            state: TochkaState = g.state
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header[:7].lower() == "bearer " else ""
            claims = state.authenticate(token, sandbox=request.blueprint == "sandbox") if token else None
            if claims is None:
                raise TochkaError(401, "Unauthorized", "Invalid or expired access token")
            if state.knobs.forbidden_by_consent or permission not in claims.get("permissions", []):
                raise TochkaError(403, "Forbidden by consent", f"Permission {permission} is not granted")
            g.client_id = claims["sub"]
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _body_date(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise TochkaError(400, "Bad Request", f"{name} must be a date YYYY-MM-DD") from None


def _api() -> Blueprint:
    api = Blueprint("api", __name__)

    @api.get("/open-banking/v1.0/accounts")
    @_require("ReadAccountsBasic")
    def accounts() -> Response:
        s: TochkaState = g.state
        items = [shapes.account_model(o, s.customer_code, s.opened[o.account]) for o in s.owners.values()]
        return _json(shapes.envelope({"Account": items}))

    @api.get("/open-banking/v1.0/accounts/<path:account_id>")
    @_require("ReadAccountsBasic")
    def account(account_id: str) -> Response:
        s: TochkaState = g.state
        try:
            owner = s.owner(account_id)
        except KeyError:
            raise TochkaError(404, "Not Found", f"Account {account_id} not found") from None
        return _json(shapes.envelope(shapes.account_model(owner, s.customer_code, s.opened[owner.account])))

    @api.get("/open-banking/v1.0/customers")
    @_require("ReadCustomerData")
    def customers() -> Response:
        s: TochkaState = g.state
        owner, c = next(iter(s.owners.values())), s.customer
        model = shapes.customer_model(owner, s.customer_code, c.get("shortName", owner.name), str(c.get("ogrn", "")))
        return _json(shapes.envelope({"Customer": [model]}))

    @api.post("/open-banking/v1.0/statements")
    @_require("ReadStatements")
    def init_statement() -> Response:
        body = request.get_json(silent=True, force=True) or {}
        spec = (body.get("Data") or {}).get("Statement") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("accountId"):
            raise TochkaError(400, "Bad Request", "Data.Statement.accountId is required")
        start = _body_date(spec.get("startDateTime"), "startDateTime")
        end = _body_date(spec.get("endDateTime"), "endDateTime")
        if start > end:
            raise TochkaError(400, "Bad Request", "startDateTime is after endDateTime")
        try:
            record = g.state.init_statement(str(spec["accountId"]), start, end)
        except KeyError:
            raise TochkaError(404, "Not Found", f"Account {spec['accountId']} not found") from None
        return _json(shapes.envelope({"Statement": record}))

    @api.get("/open-banking/v1.0/statements")
    @_require("ReadStatements")
    def list_statements() -> Response:
        s: TochkaState = g.state
        limit = request.args.get("limit", type=int) or 5
        items = [s.poll(i) for i in s.statement_ids()[-limit:]]
        return _json(shapes.envelope({"Statement": [i for i in items if i]}))

    @api.get("/open-banking/v1.0/accounts/<path:account_id>/statements/<statement_id>")
    @_require("ReadStatements")
    def get_statement(account_id: str, statement_id: str) -> Response:
        record = g.state.poll(statement_id)
        if record is None or record["accountId"] != account_id:
            raise TochkaError(404, "Not Found", f"Statement {statement_id} not found")
        return _json(shapes.envelope({"Statement": [record]}))

    def _hook_body() -> dict[str, Any]:
        body = request.get_json(silent=True, force=True) or {}
        events = body.get("webhooksList") if isinstance(body, dict) else None
        url = body.get("url") if isinstance(body, dict) else None
        if (not isinstance(events, list) or not events or any(e not in shapes.WEBHOOK_TYPES for e in events)
                or not isinstance(url, str) or not url):
            raise TochkaError(400, "Bad Request", "webhooksList (WebhookTypeEnum[]) and url are required")
        parsed = urlparse(url)
        if g.state.knobs.require_https and (parsed.scheme != "https" or (parsed.port or 443) != 443):
            raise TochkaError(400, "Bad Request", "Webhook url must be https on port 443")
        return {"webhooksList": events, "url": url}

    def _own_client(client_id: str) -> None:
        if client_id not in g.state.clients:
            raise TochkaError(404, "Not Found", f"Client {client_id} not found")
        if g.client_id not in (client_id, "sandbox"):
            raise TochkaError(403, "Forbidden", "Token belongs to another client")

    def _save_hook(client_id: str) -> Response:
        _own_client(client_id)
        hook = _hook_body()
        s: TochkaState = g.state
        for event in hook["webhooksList"]:  # registration proves the URL answers 200, once per event
            body = sign_webhook(shapes.sample_claims(event, s.customer_code), s.key)
            status = s.sender.attempt(hook["url"], body, {"Content-Type": "text/plain"}, s.knobs.webhook_timeout)
            if status != 200:
                raise TochkaError(400, "Bad Request", f"Webhook url answered {status} to the {event} test webhook")
        with s.lock:
            s.webhooks[client_id] = hook
        return _json(shapes.envelope(dict(hook)))

    api.put("/webhook/v1.0/<client_id>")(_require("ManageWebhookData")(_save_hook))
    api.post("/webhook/v1.0/<client_id>", endpoint="edit_hook")(_require("ManageWebhookData")(_save_hook))

    @api.get("/webhook/v1.0/<client_id>")
    @_require("ManageWebhookData")
    def get_hook(client_id: str) -> Response:
        _own_client(client_id)
        hook = g.state.webhooks.get(client_id)
        if hook is None:
            raise TochkaError(404, "Not Found", "No webhooks registered")
        return _json(shapes.envelope(dict(hook)))

    @api.delete("/webhook/v1.0/<client_id>")
    @_require("ManageWebhookData")
    def delete_hook(client_id: str) -> Response:
        _own_client(client_id)
        with g.state.lock:
            g.state.webhooks.pop(client_id, None)
        return _json(shapes.envelope({"result": True}))

    @api.post("/webhook/v1.0/<client_id>/test_send")
    @_require("ManageWebhookData")
    def test_send(client_id: str) -> Response:
        _own_client(client_id)
        body = request.get_json(silent=True, force=True) or {}
        kind = body.get("webhookType") if isinstance(body, dict) else None
        if kind not in shapes.WEBHOOK_TYPES:
            raise TochkaError(400, "Bad Request", "webhookType must be a WebhookTypeEnum value")
        s: TochkaState = g.state
        s.dispatch(kind, shapes.sample_claims(kind, s.customer_code), only_client=client_id)
        return _json(shapes.envelope({"result": True}))

    return api


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None,
               webhook_sync: bool = True) -> Flask:
    """A Tochka emulator; `webhook_sync=False` delivers webhooks from background threads (as a real bank)."""
    state = TochkaState(read_seed(seed, DEFAULT_SEED), clock or SystemClock(), webhook_sync=webhook_sync)
    app = json_app("tochka", state)
    counter = RequestCounter()
    install_control(app, counter=counter, clock=state.clock, get_knobs=lambda: state.knobs,
                    set_knobs=lambda k: setattr(state, "knobs", k), reset=state.load, dump=lambda: dump(state))
    install_tochka_control(app, state)

    @app.before_request
    def bind() -> None:
        g.state = state

    @app.errorhandler(TochkaError)
    def tochka_error(exc: TochkaError) -> Response:
        return _json(shapes.error_body(exc.status, exc.message, exc.detail), exc.status)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_found(exc: Any) -> Response:
        status = 405 if getattr(exc, "code", 404) == 405 else 404
        message = "Method Not Allowed" if status == 405 else "Not Found"
        return _json(shapes.error_body(status, message, request.path), status)

    @app.get("/doc/openapi/static/keys/public")
    def public_key() -> Response:
        return _json(public_jwk(state.key))

    install_oauth(app, state)
    api = _api()
    app.register_blueprint(api, url_prefix="/uapi")
    app.register_blueprint(api, url_prefix="/sandbox/v2", name="sandbox")
    app.wsgi_app = FaultInjector(app.wsgi_app)  # type: ignore[method-assign]
    return app


def dump(state: TochkaState) -> dict[str, Any]:
    with state.lock:
        return {"customerCode": state.customer_code, "accounts": [shapes.account_id(o) for o in state.owners.values()],
                "webhooks": state.webhooks, "statements": [state.public(r) for r in state.statements.values()],
                "payments": len(state.ledger.all()), "clients": sorted(state.clients)}

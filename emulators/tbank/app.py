"""T-Bank (Tinkoff) business API emulator: statement with cursor paging, the deprecated flat statement,
bank accounts, webhook subscription, plus control endpoints.

Paths sit under `/openapi` as on business.tbank.ru/openapi; every datetime is ISO 8601 UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, request
from pydantic import ValidationError

from emulators.common.clock import MSK, Clock, SystemClock
from emulators.common.control import RequestCounter, install_control, is_control_path, json_app, read_seed
from emulators.common.faults import FaultInjector
from emulators.common.payment_control import control_error, describe, install_ledger_routes, split_control_body
from emulators.common.payments import totals
from emulators.tbank import shapes
from emulators.tbank.state import TBankState

DEFAULT_SEED = Path(__file__).parent / "seeds" / "demo.yaml"
CATEGORY_LIMIT = 50


class TBankError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: Any, status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def _moment(raw: str | None, name: str) -> datetime | None:
    """ISO 8601 datetime (Z or offset) or a bare date (midnight UTC)."""
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise TBankError(400, "VALIDATION_ERROR", f"{name} must be an ISO 8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def create_app(seed: dict[str, Any] | str | Path | None = None, clock: Clock | None = None,
               webhook_sync: bool = True) -> Flask:
    """A T-Bank emulator; `clock` drives the RPS limits, `webhook_sync=False` sends webhooks in the background."""
    state = TBankState(read_seed(seed, DEFAULT_SEED), clock or SystemClock(), webhook_sync)
    app = json_app("tbank", state)
    install_control(app, counter=RequestCounter(), clock=state.clock, get_knobs=lambda: state.knobs,
                    set_knobs=state.set_knobs, reset=state.load, dump=lambda: _dump(state))

    @app.before_request
    def auth() -> Response | None:
        if is_control_path(request.path):
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if token not in state.tokens:
            raise TBankError(401, "UNAUTHORIZED", "Токен не передан или недействителен")
        g.token = token
        return None

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        if not is_control_path(request.path) and request.headers.get("X-Request-Id"):
            response.headers["X-Request-Id"] = request.headers["X-Request-Id"]
        return response

    @app.errorhandler(TBankError)
    def tbank_error(exc: TBankError) -> Response:
        return _json(shapes.error_body(exc.code, exc.message), exc.status)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_found(exc: Any) -> Response:
        return _json(shapes.error_body("NOT_FOUND", f"Resource {request.path} not found"), 404)

    def _account(number: str | None) -> str:
        if not number or not (len(number) == 20 and number.isdigit()):
            raise TBankError(400, "VALIDATION_ERROR", "accountNumber must match ^(\\d{20})$")
        if number not in state.owners:
            raise TBankError(403, "FORBIDDEN", "Нет доступа к счету")
        return number

    @app.get("/openapi/api/v1/statement")
    def statement() -> Response:
        if not state.statement_limiter.hit(g.token).allowed:
            raise TBankError(429, "TOO_MANY_REQUESTS", "Превышен лимит запросов")
        args = request.args
        account = _account(args.get("accountNumber"))
        start = _moment(args.get("from"), "from")
        if start is None:
            raise TBankError(400, "VALIDATION_ERROR", "from is required")
        end = _moment(args.get("to"), "to") or datetime.fromtimestamp(state.clock.now(), timezone.utc)
        status = args.get("operationStatus", "All")
        if status not in ("All", "Transaction", "Authorization"):
            raise TBankError(400, "VALIDATION_ERROR", "operationStatus must be Transaction, Authorization or All")
        limit = args.get("limit", type=int) or state.knobs.default_limit
        if not 1 <= limit <= state.knobs.max_limit:
            raise TBankError(400, "VALIDATION_ERROR", f"limit must be 1..{state.knobs.max_limit}")
        categories = [c for v in args.getlist("categories") for c in v.split(",") if c]
        if len(categories) > CATEGORY_LIMIT:
            raise TBankError(400, "VALIDATION_ERROR", "at most 50 categories")
        ops = [p for p in state.ledger.all(account) if start <= p.booked_at < end
               and (status == "All" or (p.status == "booked") == (status == "Transaction"))
               and (not categories or shapes.category(p) in categories)]
        ops.sort(key=lambda p: (p.booked_at, p.uid))
        offset = 0
        if args.get("cursor"):
            try:
                cursor = shapes.decode_cursor(args["cursor"])
            except ValueError:
                raise TBankError(400, "VALIDATION_ERROR", "cursor is invalid") from None
            if cursor.get("a") != account:
                raise TBankError(400, "VALIDATION_ERROR", "cursor does not belong to this accountNumber")
            offset = next((i + 1 for i, p in enumerate(ops) if p.uid == cursor.get("u")), len(ops))
        page = ops[offset:offset + limit]
        body: dict[str, Any] = {}
        if args.get("withBalances") == "true" and not args.get("cursor"):
            body["balances"] = _balances(state, account, start, end)
        body["operations"] = [shapes.operation(p) for p in page]
        more = offset + limit < len(ops)
        body["nextCursor"] = shapes.encode_cursor({"a": account, "u": page[-1].uid}) if more else None
        return _json(body)

    @app.get("/openapi/api/v1/bank-statement")
    def legacy_statement() -> Response:
        if not state.legacy_limiter.hit(g.token).allowed:
            raise TBankError(429, "TOO_MANY_REQUESTS", "Превышен лимит запросов")
        account = _account(request.args.get("accountNumber"))
        try:
            start = date.fromisoformat(request.args.get("from", "")[:10])
            till = date.fromisoformat(request.args["till"][:10]) if request.args.get("till") else \
                datetime.fromtimestamp(state.clock.now(), MSK).date()
        except ValueError:
            raise TBankError(400, "VALIDATION_ERROR", "from/till must be dates YYYY-MM-DD") from None
        payments = state.ledger.between(account, start, till)
        opening = state.ledger.balance_before(account, start)
        credit, debit = totals(payments)
        return _json({"accountNumber": account, "saldoIn": float(opening), "income": float(credit),
                      "outcome": float(debit), "saldoOut": float(opening + credit - debit),
                      "operation": [shapes.legacy_operation(p) for p in payments]})

    @app.get("/openapi/api/v4/bank-accounts")
    def bank_accounts() -> Response:
        today = datetime.fromtimestamp(state.clock.now(), MSK).date() + timedelta(days=1)
        items = []
        for number, owner in state.owners.items():
            meta = state.account_meta[number]
            balance = float(state.ledger.balance_before(number, today))
            items.append({"accountNumber": number, "name": meta.get("name", "Расчетный счет"), "currency": "643",
                          "bankBik": owner.bik, "accountType": "Current", "activationDate": meta.get("opened"),
                          "balance": {"otb": balance, "authorized": 0.0, "pendingPayments": 0.0,
                                      "pendingRequisitions": 0.0}})
        return _json(items)

    @app.post("/openapi/api/v1/webhook")
    def add_webhook() -> Response:
        event = request.args.get("eventType", "")
        body = request.get_json(silent=True, force=True) or {}
        if event != "oper-feed-operation" or not isinstance(body, dict) or not body.get("url"):
            raise TBankError(400, "VALIDATION_ERROR", "eventType=oper-feed-operation and url are required")
        with state.lock:
            state.webhooks[event] = {k: body.get(k) for k in ("url", "email", "authType", "authSecret", "hasSignature")}
        return _json({})

    _install_control(app, state)
    app.wsgi_app = FaultInjector(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _balances(state: TBankState, account: str, start: datetime, end: datetime) -> dict[str, float]:
    """Balances of the first page: before `start` and at `end` (field names unverified)."""
    opening = state.ledger.balance_before(account, start.astimezone(MSK).date())
    inside = [p for p in state.ledger.all(account)
              if p.status == "booked" and start.astimezone(MSK).date() <= p.date and p.booked_at < end]
    credit, debit = totals(inside)
    return {"incoming": float(opening), "outgoing": float(opening + credit - debit)}


def _install_control(app: Flask, state: TBankState) -> None:
    install_ledger_routes(app, state)

    @app.post("/_emulator/payments")
    def payment_happens() -> Response:
        try:
            spec, options = split_control_body(request.get_json(silent=True, force=True), ("sync",))
            payment, deliveries = state.add_payment(spec, sync=options.get("sync"))
        except ValidationError as exc:
            return control_error(exc.errors(include_url=False, include_context=False))
        except KeyError as exc:
            return control_error(f"unknown account {exc.args[0]}", 404)
        except ValueError as exc:
            return control_error(str(exc))
        return _json({"payment": describe(payment), "operation": shapes.operation(payment),
                      "deliveries": [d.id for d in deliveries]})

    @app.post("/_emulator/payments/<operation_id>/settle")
    def settle(operation_id: str) -> Response:
        try:
            payment, deliveries = state.settle(operation_id)
        except KeyError:
            return control_error("unknown operationId", 404)
        return _json({"payment": describe(payment), "deliveries": [d.id for d in deliveries]})

    @app.post("/_emulator/webhooks")
    def register_hook() -> Response:
        body = request.get_json(silent=True, force=True) or {}
        if not body.get("url"):
            return control_error("url is required")
        with state.lock:
            state.webhooks["oper-feed-operation"] = {"url": body["url"], "authType": body.get("authType"),
                                                     "authSecret": body.get("authSecret"), "email": None,
                                                     "hasSignature": False}
        return _json(state.webhooks["oper-feed-operation"])


def _dump(state: TBankState) -> dict[str, Any]:
    with state.lock:
        return {"accounts": list(state.owners), "webhooks": state.webhooks, "payments": len(state.ledger.all()),
                "tokens": sorted(state.tokens)}

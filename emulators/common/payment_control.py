"""Control-side helpers for the bank emulators: "a payment happens" bodies, payment views, doc numbers,
and the read-only `/_emulator/` routes over the ledger.

Tochka and T-Bank both accept the same `/_emulator/payments` body, number payment orders the
same way and show their ledger, deliveries and 1C file alike, so the plumbing lives here rather
than twice in the bank packages.
"""
from __future__ import annotations

import itertools
import threading
from datetime import datetime
from typing import Any, Protocol

from flask import Flask, Response, jsonify, request

from emulators.common.clock import MSK, Clock
from emulators.common.payments import Direction, Ledger, Party, Payment, PaymentSpec, fmt2
from emulators.common.webhook_sender import WebhookSender
from emulators.onec.export import export_response


class DocumentNumbers:
    """Payment-order numbers per our account: our own outgoing sequence, and a stand-in sequence for
    payers' numbers on incoming payments (each payer numbers its own orders; ours never collide)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, str], itertools.count[int]] = {}

    def add(self, account: str, next_outgoing: int, next_incoming: int = 301) -> None:
        with self._lock:
            self._counters[(account, "outgoing")] = itertools.count(int(next_outgoing))
            self._counters[(account, "incoming")] = itertools.count(int(next_incoming))

    def next(self, account: str, direction: Direction) -> str:
        with self._lock:
            return str(next(self._counters[(account, direction)]))


def split_control_body(body: Any, control_keys: tuple[str, ...]) -> tuple[PaymentSpec, dict[str, Any]]:
    """Split a `/_emulator/payments` body into the payment spec and route options (e.g. webhookType, sync).

    Raises pydantic's ValidationError (or ValueError for a non-object body) for a 400 answer.
    """
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    options = {k: body[k] for k in control_keys if k in body}
    spec = PaymentSpec.model_validate({k: v for k, v in body.items() if k not in control_keys})
    return spec, options


def describe(p: Payment) -> dict[str, Any]:
    """A route-neutral JSON view of a payment, for control endpoints and test assertions."""
    return {"uid": p.uid, "account": p.account, "direction": p.direction, "amount": fmt2(p.amount),
            "purpose": p.purpose, "date": p.date.isoformat(), "time": p.time.isoformat(),
            "documentNumber": p.document_number, "documentDate": p.document_date.isoformat(),
            "documentType": p.document_type, "status": p.status, "ids": dict(p.ids),
            "counterparty": {"name": p.counterparty.name, "inn": p.counterparty.inn, "kpp": p.counterparty.kpp,
                             "account": p.counterparty.account, "bik": p.counterparty.bik}}


def control_error(message: Any, status: int = 400) -> Response:
    """`{"error": message}`: how every bank control route refuses a request."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


class BankState(Protocol):
    """What the shared ledger routes read from a bank emulator's state."""

    ledger: Ledger
    sender: WebhookSender
    clock: Clock

    def owner(self, account: str | None) -> Party: ...


def install_ledger_routes(app: Flask, state: BankState) -> None:
    """`GET /_emulator/payments`, `/_emulator/webhooks/deliveries` and `/_emulator/export/1c` on `app`."""

    @app.get("/_emulator/payments")
    def payments() -> Response:
        return jsonify([describe(p) for p in state.ledger.all()])

    @app.get("/_emulator/webhooks/deliveries")
    def deliveries() -> Response:
        return jsonify(state.sender.log())

    @app.get("/_emulator/export/1c")
    def export_1c() -> Response:
        try:
            owner = state.owner(request.args.get("account"))
        except KeyError:
            return control_error("unknown account", 404)
        return export_response(state.ledger, owner, request.args.to_dict(),
                               datetime.fromtimestamp(state.clock.now(), MSK))

"""Control-side helpers for the bank emulators: "a payment happens" bodies, payment views, doc numbers.

Tochka and T-Bank both accept the same `/_emulator/payments` body and number payment orders the
same way, so the plumbing lives here rather than twice in the bank packages.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any

from emulators.common.payments import Direction, Payment, PaymentSpec, fmt2


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

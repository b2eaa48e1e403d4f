"""Which bank operation paid which deal: links in the store, and sums derived from them.

Each operation is linked to at most one deal (`links` kind `payment.operation`, keyed by the
operation's cross-route key), so recording a match twice changes nothing. A deal's paid amount is
always the sum of its linked incoming operations as stored, never a counter that is incremented:
a replayed event, a retry after a crash or a second route of the same payment cannot count twice.

Writing a deal's sum is serialized per deal (a lease), so two payments of one deal processed at once
by two workers cannot leave the older sum in the CRM.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ContextManager, Iterable

from sqlalchemy import select

from relay import leases
from relay.links import Links
from relay.payments.money import rub
from relay.store import Store
from relay.store.schema import BankOperation, Link

OPERATION_LINK = "payment.operation"
LOCK_SECONDS = 60.0


@dataclass(frozen=True)
class Booked:
    """An operation linked to a deal: an income (C) or an expense (D) of that deal."""

    key: str
    operation_id: int
    deal_id: str
    direction: str
    amount_kopecks: int
    posted_on: date
    counterparty: str
    inn: str
    purpose: str
    how: str = ""
    invoice_id: str = ""
    article: str = ""
    comment: str = ""
    by: str = ""


def operation_view(row: BankOperation) -> dict[str, Any]:
    """What rules and review screens show of a stored operation (JSON-safe, exact amounts)."""
    return {"id": row.id, "key": row.op_key, "account": row.account, "direction": row.direction,
            "incoming": row.direction == "C", "amount": rub(row.amount_kopecks), "amount_kopecks": row.amount_kopecks,
            "currency": row.currency, "document_number": row.document_number, "posted_on": row.posted_on.isoformat(),
            "purpose": row.purpose, "purpose_fields": dict(row.purpose_fields or {}),
            "counterparty": {"name": row.counterparty_name, "inn": row.counterparty_inn, "kpp": row.counterparty_kpp,
                             "account": row.counterparty_account, "bik": row.counterparty_bik},
            "routes": list(row.routes or [])}


class Ledger:
    def __init__(self, store: Store, links: Links | None = None) -> None:
        self.store = store
        self.links = links or Links(store)

    # --- operations ----------------------------------------------------------------------------
    def operation(self, ref: str | int) -> dict[str, Any] | None:
        """The stored operation by its key, or by its id (`bank_operations.id`, as review items show it)."""
        text = str(ref).strip()
        column = BankOperation.id if text.isdigit() and len(text) < 19 else BankOperation.op_key
        with self.store.session() as s:
            row = s.scalar(select(BankOperation).where(column == (int(text) if column is BankOperation.id else text)))
            return operation_view(row) if row is not None else None

    def deal_of(self, key: str) -> str | None:
        return self.links.get(OPERATION_LINK, key)

    def link(self, key: str, deal_id: str, data: dict[str, Any]) -> str | None:
        """Link the operation to the deal (again: the same link, no second count); returns the deal it
        was linked to before, if another (an admin moved the payment)."""
        previous = self.deal_of(key)
        self.links.set(OPERATION_LINK, key, deal_id, data)
        return previous if previous not in (None, deal_id) else None

    # --- sums and records ----------------------------------------------------------------------
    def booked(self, deal_ids: Iterable[str]) -> list[Booked]:
        """Every operation linked to these deals, oldest first."""
        wanted = [str(d) for d in deal_ids]
        if not wanted:
            return []
        with self.store.session() as s:
            links = s.execute(select(Link.key, Link.value, Link.data).where(
                Link.kind == OPERATION_LINK, Link.value.in_(wanted))).all()
            by_key = {key: (value, data or {}) for key, value, data in links}
            rows = s.scalars(select(BankOperation).where(BankOperation.op_key.in_(list(by_key)))).all() if by_key else []
            found = []
            for row in rows:
                deal_id, data = by_key[row.op_key]
                found.append(Booked(row.op_key, row.id, deal_id, row.direction, row.amount_kopecks, row.posted_on,
                                    row.counterparty_name, row.counterparty_inn, row.purpose, str(data.get("how", "")),
                                    str(data.get("invoice_id", "")), str(data.get("article", "")),
                                    str(data.get("comment", "")), str(data.get("by", ""))))
        return sorted(found, key=lambda b: (b.posted_on, b.operation_id))

    def paid(self, deal_id: str, invoice_id: str = "") -> tuple[int, int]:
        """(kopecks paid, number of payments) into the deal — or into one invoice of it."""
        incoming = [b for b in self.booked([deal_id]) if b.direction == "C" and (not invoice_id or b.invoice_id == invoice_id)]
        return sum(b.amount_kopecks for b in incoming), len(incoming)

    def deal_ids(self) -> list[str]:
        """Every deal some operation is linked to."""
        with self.store.session() as s:
            values = s.scalars(select(Link.value).where(Link.kind == OPERATION_LINK).distinct()).all()
        return sorted(values, key=lambda v: (len(v), v))

    # --- one writer per deal ---------------------------------------------------------------------
    def deal_lock(self, deal_id: str, wait_seconds: float = 5.0) -> ContextManager[None]:
        """Hold the deal while its sum is computed and written; another holder makes this wait a
        little, then retry the event later (TransientError), never write a stale sum."""
        return leases.exclusive(self.store, f"payment.deal:{deal_id}", f"deal {deal_id} is being updated by another payment; "
                                "trying again shortly", wait_seconds, LOCK_SECONDS)

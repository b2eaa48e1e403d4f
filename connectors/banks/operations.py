"""Store each bank operation once, whatever route brought it, and offer one inbox event per operation.

How "the same payment" is recognised, in order:
1. the bank's own id on this bank's routes (Tochka webhook and statement share `paymentId`);
2. the exact cross-route key (see `model.Operation.key`), or a key matched to the row before
   (`alt_keys`: a route whose date differed, seen again);
3. the same account, direction, counterparty account, number and amount posted within
   `tolerance_days` on a row this route has not reported yet and whose bank id does not differ
   (a webhook dated differently from the statement, a bank that posts after midnight).

Every arrival offers the inbox an event whose idempotency key is the *row's* key, so the inbox's
unique (source, idem_key) makes it one event per operation, while a later route (a statement poll)
still repairs a crash that stored the row but not its event. Ingestion is serialized (SQLite's
writer lock; a PostgreSQL advisory lock) so two routes racing for one payment make one row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from connectors.banks.model import Operation, entity_key, rubles
from connectors.banks.purpose import parse_purpose
from relay.inbox import insert_events
from relay.intake.base import IncomingEvent
from relay.store import Store, utcnow
from relay.store.schema import BankOperation, Cursor

SOURCE = "bank"
INGEST_LOCK = 727010  # PostgreSQL advisory lock: one ingestion at a time, so racing routes make one row


@dataclass(frozen=True)
class Ingested:
    """What one arrival did: the row it landed in, whether that row is new, and the event to offer."""

    row_id: int
    key: str
    new: bool
    event: IncomingEvent


def load_cursor(store: Store, name: str) -> dict[str, Any] | None:
    """A poller's saved state (JSON in the `cursors` table), or None before its first run."""
    with store.session() as s:
        row = s.get(Cursor, name)
        return json.loads(row.value) if row is not None else None


def save_cursor(s: Session, name: str, state: dict[str, Any]) -> None:
    s.merge(Cursor(name=name, value=json.dumps(state, sort_keys=True), updated_at=utcnow()))


def row_view(row: BankOperation) -> dict[str, Any]:
    """The operation as rules and actions see it (JSON-safe; amounts exact strings in rubles)."""
    return {
        "id": row.id, "key": row.op_key, "account": row.account, "direction": row.direction,
        "incoming": row.direction == "C", "amount": rubles(row.amount_kopecks), "amount_kopecks": row.amount_kopecks,
        "currency": row.currency, "document_number": row.document_number,
        "document_date": row.document_date.isoformat() if row.document_date else None,
        "posted_on": row.posted_on.isoformat(), "purpose": row.purpose, "purpose_fields": dict(row.purpose_fields),
        "counterparty": {"name": row.counterparty_name, "inn": row.counterparty_inn, "kpp": row.counterparty_kpp,
                         "account": row.counterparty_account, "bik": row.counterparty_bik, "bank": row.counterparty_bank},
        "tochka_payment_id": row.tochka_payment_id, "tbank_operation_id": row.tbank_operation_id,
        "routes": list(row.routes),
    }


def _event(row: BankOperation) -> IncomingEvent:
    kind = "operation.incoming" if row.direction == "C" else "operation.outgoing"
    return IncomingEvent(kind=kind, entity_key=entity_key(row.counterparty_inn, row.op_key),
                         payload=row_view(row), idem_key=f"op:{row.op_key}")


class Operations:
    """The `bank_operations` table: ingestion from every route, look-ups for rules and the CLI."""

    def __init__(self, store: Store, tolerance_days: int = 3) -> None:
        self.store = store
        self.tolerance_days = tolerance_days

    def ingest(self, operations: Sequence[Operation], queue: bool = True,
               cursor: tuple[str, dict[str, Any]] | None = None) -> list[Ingested]:
        """Store (or merge) each operation; with `queue`, put the events in the inbox in the same
        transaction. Sources pass `queue=False` and hand the events to the intake instead.

        `cursor` (name, state) is saved in the same transaction too, so a poller never advances
        past a page whose operations were not stored."""
        if not operations and cursor is None:
            return []
        with self.store.session() as s:
            if self.store.is_postgres:
                s.execute(text(f"SELECT pg_advisory_xact_lock({INGEST_LOCK})"))
            found = [self._one(s, op) for op in operations]
            s.flush()
            results = [Ingested(r.id, r.op_key, new, _event(r)) for r, new in found]
            if queue and results:
                insert_events(s, self.store, SOURCE, [r.event for r in results])
            if cursor is not None:
                save_cursor(s, *cursor)
        return results

    def remember(self, name: str, state: dict[str, Any]) -> None:
        """Save a poller's state on its own (e.g. a statement requested but not ready yet)."""
        with self.store.session() as s:
            save_cursor(s, name, state)

    def get(self, key: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.scalar(select(BankOperation).where(BankOperation.op_key == key))
            return row_view(row) if row is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return [row_view(r) for r in s.scalars(select(BankOperation).order_by(BankOperation.id))]

    # --- matching and merging --------------------------------------------------------------
    def _one(self, s: Session, op: Operation) -> tuple[BankOperation, bool]:
        row = self._find(s, op)
        if row is None:
            row = self._new_row(op)
            s.add(row)
            s.flush()  # later operations of this batch must find it
            return row, True
        self._merge(row, op)
        return row, False

    def _find(self, s: Session, op: Operation) -> BankOperation | None:
        id_column = {"tochka": BankOperation.tochka_payment_id, "tbank": BankOperation.tbank_operation_id}.get(op.bank)
        if id_column is not None and op.route_id:
            row = s.scalar(select(BankOperation).where(id_column == op.route_id).limit(1))
            if row is not None:
                return row
        row = s.scalar(select(BankOperation).where(BankOperation.op_key == op.key))
        if row is not None:
            return row
        # Same account, counterparty, number and amount: a handful of rows at most, whatever the date.
        alike = s.scalars(select(BankOperation).where(
            BankOperation.account == op.account, BankOperation.direction == op.direction,
            BankOperation.counterparty_account == op.counterparty_account,
            BankOperation.document_number == op.document_number, BankOperation.amount_kopecks == op.amount_kopecks)).all()
        for candidate in alike:
            if op.key in (candidate.alt_keys or []):
                return candidate  # this route's key was matched to that row before
        if not op.document_number:
            return None
        window = timedelta(days=self.tolerance_days)
        fits = [c for c in alike if abs(c.posted_on - op.posted_on) <= window
                and op.route not in c.routes and not self._ids_conflict(c, op)]
        return min(fits, key=lambda c: abs((c.posted_on - op.posted_on).days), default=None)

    @staticmethod
    def _ids_conflict(row: BankOperation, op: Operation) -> bool:
        """A different bank id on the same bank means a different payment, however alike."""
        existing = {"tochka": row.tochka_payment_id, "tbank": row.tbank_operation_id}.get(op.bank)
        return bool(existing and op.route_id and existing != op.route_id)

    @staticmethod
    def _new_row(op: Operation) -> BankOperation:
        now = utcnow()
        return BankOperation(
            op_key=op.key, alt_keys=[], account=op.account, direction=op.direction, amount_kopecks=op.amount_kopecks,
            currency=op.currency[:3], document_number=op.document_number[:64], document_date=op.document_date,
            posted_on=op.posted_on, counterparty_name=op.counterparty_name, counterparty_inn=op.counterparty_inn[:32],
            counterparty_kpp=op.counterparty_kpp[:32], counterparty_account=op.counterparty_account[:64],
            counterparty_bik=op.counterparty_bik[:32], counterparty_bank=op.counterparty_bank, purpose=op.purpose,
            purpose_fields=parse_purpose(op.purpose).as_dict(),
            tochka_payment_id=op.route_id[:255] if op.bank == "tochka" and op.route_id else None,
            tbank_operation_id=op.route_id[:255] if op.bank == "tbank" and op.route_id else None,
            routes=[op.route], raw={op.route: op.raw}, first_seen_at=now, updated_at=now)

    @staticmethod
    def _merge(row: BankOperation, op: Operation) -> None:
        """A known operation seen again: note the route and fill what earlier routes lacked.

        JSON columns are reassigned, never mutated in place, so SQLAlchemy notices the change."""
        changed = False
        if op.route not in row.routes:
            row.routes, row.raw, changed = [*row.routes, op.route], {**row.raw, op.route: op.raw}, True
        if op.key != row.op_key and op.key not in (row.alt_keys or []):
            row.alt_keys, changed = [*(row.alt_keys or []), op.key], True
        if op.route_id and op.bank == "tochka" and not row.tochka_payment_id:
            row.tochka_payment_id, changed = op.route_id[:255], True
        if op.route_id and op.bank == "tbank" and not row.tbank_operation_id:
            row.tbank_operation_id, changed = op.route_id[:255], True
        for column, value in (("counterparty_name", op.counterparty_name), ("counterparty_inn", op.counterparty_inn[:32]),
                              ("counterparty_kpp", op.counterparty_kpp[:32]), ("counterparty_bik", op.counterparty_bik[:32]),
                              ("counterparty_bank", op.counterparty_bank), ("document_date", op.document_date)):
            if value and not getattr(row, column):
                setattr(row, column, value)
                changed = True
        if changed:
            row.updated_at = utcnow()

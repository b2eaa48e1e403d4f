"""Tables of the store. Alembic migrations in `migrations/` create exactly these (a test compares)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite keeps no zone), always handed back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class InboxEvent(Base):
    """An event as received: stored before the sender gets its 200, processed later."""

    __tablename__ = "inbox_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(128))
    entity_key: Mapped[str] = mapped_column(String(255))
    idem_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|processing|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("source", "idem_key", name="uq_inbox_source_idem"),
        Index("ix_inbox_ready", "status", "id", "next_attempt_at"),  # claims walk pending events in id order
        Index("ix_inbox_entity", "entity_key", "status", "id"),
        Index("ix_inbox_received", "received_at"),
    )


class TraceStep(Base):
    """One step of an event's story: the admin's answer to "why did this happen?"."""

    __tablename__ = "trace_steps"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime]
    step: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Effect(Base):
    """An outbound write, keyed so that it happens at most once (see relay.effects)."""

    __tablename__ = "effects"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # started|done
    external_id: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    target: Mapped[str | None] = mapped_column(String(255), index=True)  # "system:entity:id" written to
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    tries: Mapped[int] = mapped_column(Integer, default=1)


class Snapshot(Base):
    """The last state of an outside entity the relay saw; the base of change detection."""

    __tablename__ = "snapshots"
    entity_key: Mapped[str] = mapped_column(String(255), primary_key=True)  # "bitrix24:deal:123"
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The state before `event_id` changed it: a retry of that event diffs against this, not against
    # what its own failed attempt stored, so a crash mid-event cannot swallow the change.
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    event_id: Mapped[int | None] = mapped_column(BigInteger)


class OwnWrite(Base):
    """A field value the relay wrote itself; a change that only echoes it triggers nothing."""

    __tablename__ = "own_writes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    entity_key: Mapped[str] = mapped_column(String(255))
    field: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON of the written value
    written_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    __table_args__ = (Index("ix_own_writes_entity", "entity_key", "field"),)


class Timer(Base):
    """A durable "later": fired by the scheduler into the inbox as a `timer` event."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # idempotency: one timer per key
    kind: Mapped[str] = mapped_column(String(128))
    fire_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    entity_key: Mapped[str] = mapped_column(String(255))
    cancel_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|fired|cancelled
    created_at: Mapped[datetime]
    created_by_event: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_timers_due", "status", "fire_at"),)


class DeadLetter(Base):
    """An event that will not succeed by retrying; replayable after the cause is fixed."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class WorkerBeat(Base):
    """Liveness of each worker process, for /healthz and for taking over a dead worker's events."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class Lease(Base):
    """Named leases: one scheduler leader, one sweep at a time, across processes and hosts."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class Cursor(Base):
    """Where a poller or a sweep stopped last time (bank statements, DATE_MODIFY sweeps)."""

    __tablename__ = "cursors"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Link(Base):
    """A durable association the relay keeps between outside ids: a Telegram chat and its task,
    a chat's old id and its supergroup id, a bank operation and its deal."""

    __tablename__ = "links"
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    __table_args__ = (Index("ix_links_value", "kind", "value"),)


class BankOperation(Base):
    """One bank operation, stored once whatever route (webhook, statement, 1C file) brought it.

    `op_key` is the cross-route key (our account, C/D, counterparty account, document number, kopecks,
    Moscow posting date); bank ids are per-route duplicate checks; `routes` says who has seen it."""

    __tablename__ = "bank_operations"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    op_key: Mapped[str] = mapped_column(String(255), unique=True)
    alt_keys: Mapped[list[str]] = mapped_column(JSON)  # keys of other routes matched to this row by tolerance
    account: Mapped[str] = mapped_column(String(34))
    direction: Mapped[str] = mapped_column(String(1))  # C | D
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    document_number: Mapped[str] = mapped_column(String(64))
    document_date: Mapped[date | None] = mapped_column(Date)
    posted_on: Mapped[date] = mapped_column(Date)
    counterparty_name: Mapped[str] = mapped_column(Text)
    counterparty_inn: Mapped[str] = mapped_column(String(32), index=True)
    counterparty_kpp: Mapped[str] = mapped_column(String(32))
    counterparty_account: Mapped[str] = mapped_column(String(64))
    counterparty_bik: Mapped[str] = mapped_column(String(32))
    counterparty_bank: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    purpose_fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    tochka_payment_id: Mapped[str | None] = mapped_column(String(255), index=True)
    tbank_operation_id: Mapped[str | None] = mapped_column(String(255), index=True)
    routes: Mapped[list[str]] = mapped_column(JSON)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)  # route → what that route said, as received
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (
        Index("ix_bank_operations_match", "account", "direction", "counterparty_account", "document_number", "amount_kopecks"),
        Index("ix_bank_operations_posted", "posted_on"),
    )


class ReviewItem(Base):
    """Something the relay could not decide alone (an unmatched payment, a brief without a task):
    waits for an admin, and once resolved becomes a `review.resolved` event the rules apply."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))  # "payment", "form", ...
    subject: Mapped[str] = mapped_column(String(255))  # what is reviewed, e.g. "bank:operation:17"
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|resolved|dismissed
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("kind", "subject", name="uq_review_kind_subject"),
                      Index("ix_review_open", "status", "kind", "opened_at"))

"""The inbox: a durable queue with per-entity ordering, leases and dead letters.

An event is claimed only when no earlier event of the same entity is waiting or running, so two
events of one deal are never processed at once and never out of order. A claim is a lease: a worker
that dies stops renewing it, and another worker (or the same one restarted) takes the event over.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from sqlalchemy import and_, bindparam, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from relay.intake.base import IncomingEvent
from relay.store import Store, utcnow
from relay.store.schema import DeadLetter, InboxEvent, TraceStep
from relay.trace import Step, write_steps

ACTIVE = ("pending", "processing")
CLAIM_LOCK = 727002  # PostgreSQL advisory lock id: claims are serialized so ordering checks see each other


@dataclass(frozen=True)
class Claimed:
    id: int
    source: str
    kind: str
    entity_key: str
    idem_key: str
    payload: dict[str, Any]
    attempts: int
    received_at: datetime
    last_error: str = ""


_INSERT_CACHE: dict[str, Any] = {}
_EVENTS = InboxEvent.__table__.c
_FINISH = (update(InboxEvent.__table__)
           .where(_EVENTS.id == bindparam("event_id"), _EVENTS.claimed_by == bindparam("worker_id"), _EVENTS.status == "processing")
           .values(status="done", finished_at=bindparam("now"), lease_until=None, last_error=None))


def _claim_query() -> Any:
    """The oldest ready events, none of an entity that has an earlier event still active. Built once:
    composing it (an aliased entity, two subqueries) cost more than running it."""
    e, earlier = InboxEvent, aliased(InboxEvent)
    blocked = exists().where(and_(earlier.entity_key == e.entity_key, earlier.status.in_(ACTIVE), earlier.id < e.id))
    running = exists().where(and_(earlier.entity_key == e.entity_key, earlier.status == "processing"))
    return (select(e.id, e.source, e.kind, e.entity_key, e.idem_key, e.payload, e.attempts, e.received_at, e.last_error)
            .where(e.status == "pending", e.next_attempt_at <= bindparam("now"), ~blocked, ~running)
            .order_by(e.id).limit(bindparam("limit")))


_CLAIM = _claim_query()
_LEASE = (update(InboxEvent.__table__).where(_EVENTS.id.in_(bindparam("ids", expanding=True)))
          .values(status="processing", claimed_by=bindparam("worker_id"), lease_until=bindparam("lease_until"),
                  attempts=_EVENTS.attempts + 1))



def _insert_statement(dialect: str) -> Any:
    """Built once per dialect: constructing an INSERT per request costs more than running it."""
    if dialect not in _INSERT_CACHE:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = InboxEvent.__table__
        # RETURNING names the rows that went in (rowcount is -1 on some drivers, and a many-row
        # insert must tell which of its rows were duplicates).
        _INSERT_CACHE[dialect] = (insert(table).on_conflict_do_nothing(index_elements=["source", "idem_key"])
                                  .returning(table.c.source, table.c.idem_key))
    return _INSERT_CACHE[dialect]


def _row(source: str, e: IncomingEvent, now: datetime, idem_key: str) -> dict[str, Any]:
    return dict(source=source, kind=e.kind[:128], entity_key=e.entity_key[:255], idem_key=idem_key,
                payload=e.payload, received_at=now, status="pending", attempts=0, next_attempt_at=now,
                claimed_by=None, lease_until=None, last_error=None, finished_at=None)


def insert_batches(connection: Connection | Session, store: Store, batches: Sequence[tuple[str, Sequence[IncomingEvent]]]) -> list[int]:
    """Insert every batch's events in one statement inside the caller's transaction, skipping
    (source, idem_key) pairs already stored. Returns how many of each batch were stored."""
    if isinstance(connection, Session):
        connection = connection.connection()
    conn = connection
    now = utcnow()
    statement = _insert_statement(store.engine.dialect.name)
    rows = [_row(source, e, now, e.idem_key[:240]) for source, events in batches for e in events]
    if not rows:
        return [0 for _ in batches]
    fresh = {(r.source, r.idem_key) for r in conn.execute(statement, rows)} if len(rows) > 1 else \
        {(r.source, r.idem_key) for r in conn.execute(statement, rows[0])}

    def repeat(source: str, e: IncomingEvent) -> int:
        return insert_repeat(e, waiting=lambda key: _waiting(conn, source, key),
                             insert=lambda key: bool(conn.execute(statement, _row(source, e, now, key)).all()))
    return credit(batches, fresh, repeat)


def credit(batches: Sequence[tuple[str, Sequence[IncomingEvent]]], fresh: set[tuple[str, str]],
           repeat: Callable[[str, IncomingEvent], int]) -> list[int]:
    """How many of each batch were stored, given the (source, idem_key) pairs the INSERT returned;
    `repeat` gets a chance to store a repeatable event whose key was taken."""
    counts = []
    for source, events in batches:
        stored = 0
        for e in events:
            key = (source, e.idem_key[:240])
            if key in fresh:
                fresh.discard(key)  # the first of identical events in one batch takes the credit
                stored += 1
            elif e.repeatable:
                stored += repeat(source, e)
        counts.append(stored)
    return counts


def insert_repeat(e: IncomingEvent, waiting: Callable[[str], bool], insert: Callable[[str], bool]) -> int:
    """A repeat of a repeatable event is new unless an earlier copy still waits to be claimed: then it
    goes in under the next free key `<idem_key>#<n>`."""
    idem_key = e.idem_key[:240]
    for repeat in range(2, 100):
        if waiting(idem_key):
            return 0
        idem_key = f"{e.idem_key[:240]}#{repeat}"
        if insert(idem_key):
            return 1
    return 0


def insert_events(connection: Connection | Session, store: Store, source: str, events: Sequence[IncomingEvent]) -> int:
    """Insert one source's events inside the caller's transaction; returns how many were new."""
    return insert_batches(connection, store, [(source, events)])[0]


def _waiting(connection: Connection, source: str, idem_key: str) -> bool:
    """Is the stored event with this key still waiting to be claimed?"""
    status = connection.execute(select(InboxEvent.status).where(InboxEvent.source == source, InboxEvent.idem_key == idem_key)).scalar()
    return status == "pending"


class Inbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, source: str, events: Sequence[IncomingEvent]) -> tuple[int, int]:
        """Store events; a repeat of a stored (source, idem_key) is skipped. Returns (stored, duplicates)."""
        if not events:
            return 0, 0
        with self.store.transaction() as conn:
            stored = insert_events(conn, self.store, source, events)
        return stored, len(events) - stored

    def claim(self, worker_id: str, limit: int, lease_seconds: float) -> list[Claimed]:
        """Take up to `limit` ready events, at most one per entity, leased to `worker_id`."""
        now = utcnow()
        # Core, not the ORM: claims run all the time, and loading objects to change three columns costs
        # more than the two statements.
        with self.store.transaction() as conn:
            if self.store.is_postgres:
                conn.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
            picked = conn.execute(_CLAIM, {"now": now, "limit": limit}).all()
            if picked:
                conn.execute(_LEASE, {"ids": [row.id for row in picked], "worker_id": worker_id,
                                      "lease_until": now + timedelta(seconds=lease_seconds)})
        return [Claimed(row.id, row.source, row.kind, row.entity_key, row.idem_key, row.payload, row.attempts + 1,
                        row.received_at, row.last_error or "") for row in picked]

    def renew(self, worker_id: str, event_ids: Sequence[int], lease_seconds: float) -> None:
        if not event_ids:
            return
        with self.store.session() as s:
            s.execute(update(InboxEvent).where(InboxEvent.id.in_(event_ids), InboxEvent.claimed_by == worker_id,
                                               InboxEvent.status == "processing")
                      .values(lease_until=utcnow() + timedelta(seconds=lease_seconds)))

    def recover_expired(self, max_attempts: int) -> list[int]:
        """Events whose worker died mid-way go back to pending (or to dead letters if they keep killing workers)."""
        now = utcnow()
        with self.store.session() as s:
            stale = s.scalars(select(InboxEvent).where(InboxEvent.status == "processing", InboxEvent.lease_until < now)).all()
            for ev in stale:
                note = f"worker {ev.claimed_by} stopped while processing (attempt {ev.attempts})"
                s.add(TraceStep(event_id=ev.id, at=now, step="recovered", message=note, detail=None))
                if ev.attempts >= max_attempts:
                    self._to_dead(s, ev, f"{note}; gave up after {ev.attempts} attempts", now)
                else:
                    ev.status, ev.claimed_by, ev.lease_until, ev.next_attempt_at = "pending", None, None, now
            return [ev.id for ev in stale]

    def finish(self, event_id: int, worker_id: str, trace: Sequence[Step] = ()) -> bool:
        """Mark done, with the trace steps; False if the lease was lost meanwhile (another worker owns
        the event now), in which case nothing is written."""
        return self.finish_many([(event_id, trace)], worker_id)[0]

    def finish_many(self, outcomes: Sequence[tuple[int, Sequence[Step]]], worker_id: str) -> list[bool]:
        """`finish` for several events in one transaction; one flag per event."""
        # Core, not the ORM: this runs once per event and the unit of work costs more than the SQL.
        now, done, steps = utcnow(), [], []
        with self.store.transaction() as conn:
            for event_id, trace in outcomes:
                ok = bool(conn.execute(_FINISH, {"event_id": event_id, "worker_id": worker_id, "now": now}).rowcount)
                done.append(ok)
                if ok:
                    steps.extend(trace)
            write_steps(conn, steps)
        return done

    def retry_later(self, event_id: int, worker_id: str, delay_seconds: float, error: str, trace: Sequence[Step] = (),
                    count_attempt: bool = True) -> None:
        """Back to pending after `delay_seconds`; `count_attempt=False` gives the attempt back (an
        outage of the upstream is not the event's failure)."""
        with self.store.session() as s:
            write_steps(s, trace)
            s.execute(update(InboxEvent).where(InboxEvent.id == event_id, InboxEvent.claimed_by == worker_id)
                      .values(status="pending", claimed_by=None, lease_until=None, last_error=error,
                              attempts=InboxEvent.attempts - (0 if count_attempt else 1),
                              next_attempt_at=utcnow() + timedelta(seconds=delay_seconds)))

    def wake(self, error_prefix: str) -> int:
        """Pending events whose last error starts with `error_prefix` are due now (an outage is over)."""
        with self.store.session() as s:
            result = s.execute(update(InboxEvent).where(InboxEvent.status == "pending", InboxEvent.next_attempt_at > utcnow(),
                                                        InboxEvent.last_error.startswith(error_prefix, autoescape=True))
                               .values(next_attempt_at=utcnow()))
            return int(result.rowcount or 0)

    def dead(self, event_id: int, reason: str, trace: Sequence[Step] = ()) -> None:
        with self.store.session() as s:
            write_steps(s, trace)
            ev = s.get(InboxEvent, event_id)
            if ev is not None:
                self._to_dead(s, ev, reason, utcnow())

    @staticmethod
    def _to_dead(s: Any, ev: InboxEvent, reason: str, now: datetime) -> None:
        ev.status, ev.last_error, ev.finished_at, ev.lease_until = "dead", reason, now, None
        letter = s.scalar(select(DeadLetter).where(DeadLetter.event_id == ev.id))
        if letter is None:
            s.add(DeadLetter(event_id=ev.id, reason=reason, attempts=ev.attempts, failed_at=now))
        else:
            letter.reason, letter.attempts, letter.failed_at, letter.resolved_at = reason, ev.attempts, now, None

    def replay(self, event_ids: Sequence[int]) -> int:
        """Queue events again. Effects already done are found by key, so a replay never repeats a write."""
        now = utcnow()
        with self.store.session() as s:
            count = 0
            for ev in s.scalars(select(InboxEvent).where(InboxEvent.id.in_(event_ids), InboxEvent.status != "processing")):
                ev.status, ev.attempts, ev.next_attempt_at, ev.claimed_by, ev.last_error = "pending", 0, now, None, None
                for letter in s.scalars(select(DeadLetter).where(DeadLetter.event_id == ev.id, DeadLetter.resolved_at.is_(None))):
                    letter.resolved_at = now
                s.add(TraceStep(event_id=ev.id, at=now, step="replay", message="queued again by an admin", detail=None))
                count += 1
            return count

    def dead_ids(self) -> list[int]:
        with self.store.session() as s:
            return list(s.scalars(select(InboxEvent.id).where(InboxEvent.status == "dead").order_by(InboxEvent.id)))

    def depth(self) -> dict[str, int]:
        with self.store.session() as s:
            return {status: n for status, n in s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status))}

    def oldest_pending_age(self) -> float | None:
        with self.store.session() as s:
            # Ids grow with arrival, so the lowest active id is the oldest (and keeps the column's type).
            oldest = s.scalar(select(InboxEvent.received_at).where(InboxEvent.status.in_(ACTIVE)).order_by(InboxEvent.id).limit(1))
        if oldest is None:
            return None
        return max(0.0, (utcnow() - oldest).total_seconds())

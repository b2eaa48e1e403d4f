"""Durable timers: "in 2 working days, unless the brief arrived".

A timer is a row. When due, the scheduler turns it into an inbox event (source `timer`) in the same
transaction, so firing is exactly-once and the handling gets the inbox's retries and trace.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from relay.inbox import insert_events
from relay.intake.base import IncomingEvent
from relay.store import Store, utcnow
from relay.store.schema import Timer
from relay.workdays import Calendar

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?|working[ _]days?|wd)\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> tuple[int, str]:
    """'90s' → (90, 's'); '2 working days' → (2, 'wd'). Raises ValueError with the accepted forms."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 15m, 2h, 3d or '2 working days')")
    unit = m.group(2).lower()
    return int(m.group(1)), "wd" if unit.startswith(("working", "wd")) else unit[0]


def due_at(start: datetime, text: str, calendar: Calendar) -> datetime:
    amount, unit = parse_duration(text)
    if unit == "wd":
        return calendar.add_working_days(start, amount)
    return start + timedelta(seconds=amount * _UNITS[unit])


@dataclass(frozen=True)
class TimerView:
    id: int
    key: str
    kind: str
    fire_at: datetime
    status: str
    cancel_key: str | None
    entity_key: str
    payload: dict[str, Any]


class Timers:
    def __init__(self, store: Store) -> None:
        self.store = store

    def schedule(self, key: str, kind: str, fire_at: datetime, payload: dict[str, Any], entity_key: str,
                 cancel_key: str | None = None, event_id: int | None = None) -> bool:
        """Create the timer unless one with `key` exists (repeated sends never stack). True if created."""
        with self.store.session() as s:
            if s.scalar(select(Timer.id).where(Timer.key == key)) is not None:
                return False
            s.add(Timer(key=key, kind=kind, fire_at=fire_at, payload=payload, entity_key=entity_key, cancel_key=cancel_key,
                        status="pending", created_at=utcnow(), created_by_event=event_id))
            return True

    def cancel(self, cancel_key: str | None = None, timer_id: int | None = None) -> int:
        where = [Timer.status == "pending"]
        where.append(Timer.cancel_key == cancel_key if cancel_key is not None else Timer.id == timer_id)
        with self.store.session() as s:
            result = s.execute(update(Timer).where(*where).values(status="cancelled", done_at=utcnow()))
            return result.rowcount or 0

    def fire_due(self, limit: int = 500) -> int:
        now = utcnow()
        with self.store.session() as s:
            due = s.scalars(select(Timer).where(Timer.status == "pending", Timer.fire_at <= now).order_by(Timer.fire_at).limit(limit)).all()
            events = [IncomingEvent(kind=t.kind, entity_key=t.entity_key, idem_key=f"timer:{t.id}",
                                    payload={"timer_id": t.id, "timer_key": t.key, "fire_at": t.fire_at.isoformat(), **t.payload})
                      for t in due]
            insert_events(s, self.store, "timer", events)
            for t in due:
                t.status, t.done_at = "fired", now
            return len(due)

    def list(self, status: str | None = None, limit: int = 200) -> list[TimerView]:
        query = select(Timer).order_by(Timer.fire_at).limit(limit)
        if status:
            query = query.where(Timer.status == status)
        with self.store.session() as s:
            return [TimerView(t.id, t.key, t.kind, t.fire_at, t.status, t.cancel_key, t.entity_key, t.payload) for t in s.scalars(query)]

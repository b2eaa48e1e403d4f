"""The per-event trace: what happened at each step, so an admin can see why a field has its value."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Iterator, Sequence

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from relay.redact import REDACTOR
from relay.store import Store, utcnow
from relay.store.schema import TraceStep

log = logging.getLogger("relay.trace")
_INSERT = insert(TraceStep.__table__)


@dataclass(slots=True)
class Step:
    """A trace step not yet written: a plain row (an ORM object per step cost more than its INSERT)."""

    event_id: int
    at: datetime
    step: str
    message: str
    detail: Any = None


def write_steps(target: Session | Connection, steps: Sequence[Step]) -> None:
    """Write steps in the caller's transaction, in one executemany."""
    if steps:
        target.execute(_INSERT, [asdict(step) for step in steps])


class Tracer:
    """Writes trace steps. While a worker thread collects for an event, steps wait in memory and are
    written in the same transaction as the event's outcome or its next effect: one commit, not five."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._local = threading.local()

    def add(self, event_id: int | None, step: str, message: str, **detail: Any) -> None:
        message = REDACTOR.text(message)
        clean = REDACTOR.value(detail) if detail else None
        log.info(message, extra={"event_id": event_id, "step": step})
        if event_id is None:
            return
        row = Step(event_id, utcnow(), step, message, clean)
        pending = getattr(self._local, "pending", None)
        if pending is not None and getattr(self._local, "event_id", None) == event_id:
            pending.append(row)
            return
        with self.store.session() as s:
            write_steps(s, [row])

    @contextmanager
    def collecting(self, event_id: int) -> Iterator[None]:
        """Hold this thread's steps for `event_id` until `take()`; whatever is left is written at the end."""
        self._local.pending, self._local.event_id = [], event_id
        try:
            yield
        finally:
            left = self.take()
            self._local.pending = self._local.event_id = None
            if left:
                with self.store.session() as s:
                    write_steps(s, left)

    def take(self) -> list[Step]:
        """The steps held so far (the caller adds them to its own transaction)."""
        pending = getattr(self._local, "pending", None)
        if not pending:
            return []
        self._local.pending = []
        return pending

    def steps(self, event_id: int) -> list[TraceStep]:
        with self.store.session() as s:
            return list(s.scalars(select(TraceStep).where(TraceStep.event_id == event_id).order_by(TraceStep.id)))

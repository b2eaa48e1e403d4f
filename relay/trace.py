"""The per-event trace: what happened at each step, so an admin can see why a field has its value."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import select

from relay.redact import REDACTOR
from relay.store import Store, utcnow
from relay.store.schema import TraceStep

log = logging.getLogger("relay.trace")


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
        row = TraceStep(event_id=event_id, at=utcnow(), step=step, message=message, detail=clean)
        pending = getattr(self._local, "pending", None)
        if pending is not None and getattr(self._local, "event_id", None) == event_id:
            pending.append(row)
            return
        with self.store.session() as s:
            s.add(row)

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
                    s.add_all(left)

    def take(self) -> list[TraceStep]:
        """The steps held so far (the caller adds them to its own transaction)."""
        pending = getattr(self._local, "pending", None)
        if not pending:
            return []
        self._local.pending = []
        return pending

    def steps(self, event_id: int) -> list[TraceStep]:
        with self.store.session() as s:
            return list(s.scalars(select(TraceStep).where(TraceStep.event_id == event_id).order_by(TraceStep.id)))

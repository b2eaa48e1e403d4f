"""The per-event trace: what happened at each step, so an admin can see why a field has its value."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from relay.redact import REDACTOR
from relay.store import Store, utcnow
from relay.store.schema import TraceStep

log = logging.getLogger("relay.trace")


class Tracer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, event_id: int | None, step: str, message: str, **detail: Any) -> None:
        message = REDACTOR.text(message)
        clean = REDACTOR.value(detail) if detail else None
        log.info(message, extra={"event_id": event_id, "step": step})
        if event_id is None:
            return
        with self.store.session() as s:
            s.add(TraceStep(event_id=event_id, at=utcnow(), step=step, message=message, detail=clean))

    def steps(self, event_id: int) -> list[TraceStep]:
        with self.store.session() as s:
            return list(s.scalars(select(TraceStep).where(TraceStep.event_id == event_id).order_by(TraceStep.id)))

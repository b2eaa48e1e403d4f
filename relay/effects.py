"""Outbound writes that happen at most once per key, even across crashes and replays.

The key is recorded as `started` (committed) before the write and `done` after it. A crash between
the two leaves `started`: the next attempt asks `find_existing` (look the object up in the target
system, e.g. a child deal whose parent link already points here) before writing again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.exc import IntegrityError

from relay.redact import REDACTOR
from relay.store import Store, utcnow
from relay.store.schema import Effect
from relay.trace import Tracer, write_steps


@dataclass
class Written:
    """What a write (or a look-up) produced: the id in the target system and anything worth keeping."""

    external_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class EffectOutcome:
    key: str
    external_id: str | None
    data: dict[str, Any]
    how: str  # "written" | "recorded" (done earlier) | "found" (existed after a crash) | "planned" (dry run)

    @property
    def fresh(self) -> bool:
        return self.how == "written"


def _as_written(value: Any) -> Written:
    if isinstance(value, Written):
        return value
    if value is None:
        return Written()
    if isinstance(value, dict):
        return Written(data=value)
    return Written(external_id=str(value))


class Effects:
    def __init__(self, store: Store, tracer: Tracer, on_latency: Callable[[str, float], None] | None = None) -> None:
        self.store = store
        self.tracer = tracer
        self.on_latency = on_latency

    def run(self, key: str, action: str, do: Callable[[], Any], find_existing: Callable[[], Any] | None = None,
            *, event_id: int | None = None, target: str | None = None, look_first: bool = False) -> EffectOutcome:
        """`look_first`: ask `find_existing` even on a first attempt (the object may predate the relay)."""
        record = self._begin(key, action, event_id, target)
        if record is not None and record.status == "done":
            self.tracer.add(event_id, "effect.recorded", f"{action}: already done earlier (key {key})", key=key, external_id=record.external_id)
            return EffectOutcome(key, record.external_id, record.result or {}, "recorded")
        if (record is not None or look_first) and find_existing is not None:
            found = find_existing()
            if found is not None:
                written = _as_written(found)
                self._finish(key, written)
                self.tracer.add(event_id, "effect.found", f"{action}: it exists already ({written.external_id or 'found'}); not written again",
                                key=key, external_id=written.external_id)
                return EffectOutcome(key, written.external_id, written.data, "found")
        started = time.perf_counter()
        written = _as_written(do())
        if self.on_latency:
            self.on_latency(action, time.perf_counter() - started)
        self._finish(key, written)
        self.tracer.add(event_id, "effect.written", f"{action}: written" + (f" ({written.external_id})" if written.external_id else ""),
                        key=key, external_id=written.external_id, data=written.data)
        return EffectOutcome(key, written.external_id, written.data, "written")

    def _begin(self, key: str, action: str, event_id: int | None, target: str | None) -> Effect | None:
        """Insert the `started` row; return the existing row when the key was seen before."""
        now = utcnow()
        # The steps that led here are written with the intent, so a crash keeps the "why".
        steps = self.tracer.take()
        try:
            with self.store.session() as s:
                write_steps(s, steps)
                s.add(Effect(key=key, event_id=event_id, action=action, status="started", target=target, started_at=now, tries=1))
            return None
        except IntegrityError:
            with self.store.session() as s:
                write_steps(s, steps)
                row = s.get(Effect, key)
                assert row is not None
                if row.status != "done":
                    row.tries += 1
                return row

    def _finish(self, key: str, written: Written) -> None:
        with self.store.session() as s:
            row = s.get(Effect, key)
            assert row is not None
            row.status, row.external_id, row.finished_at = "done", written.external_id, utcnow()
            row.result = REDACTOR.value(written.data) or None

    def get(self, key: str) -> Effect | None:
        with self.store.session() as s:
            return s.get(Effect, key)

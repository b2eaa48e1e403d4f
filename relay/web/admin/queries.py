"""Read-only questions the admin pages ask the store, kept apart from the views so pages stay thin.

Everything here works on SQLite and PostgreSQL alike; hourly buckets are grouped in SQL with the
dialect's own date function so a busy day is not pulled into Python row by row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from relay.store import utcnow
from relay.store.schema import DeadLetter, Effect, InboxEvent, Snapshot, TraceStep

if TYPE_CHECKING:
    from relay.runtime import Runtime

PAGE_SIZE = 50


@dataclass
class HourlyChart:
    """Events per source per hour; `hours` are labels oldest first, `counts[source]` aligns with them."""

    hours: list[str]
    counts: dict[str, list[int]] = field(default_factory=dict)

    @property
    def peak(self) -> int:
        return max((n for row in self.counts.values() for n in row), default=0)


def hourly_chart(runtime: "Runtime", now: datetime | None = None) -> HourlyChart:
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=23)
    labels = [(start + timedelta(hours=i)).strftime("%Y-%m-%d %H") for i in range(24)]
    if runtime.store.is_postgres:
        bucket = func.to_char(InboxEvent.received_at, "YYYY-MM-DD HH24")
    else:
        bucket = func.strftime("%Y-%m-%d %H", InboxEvent.received_at)
    query = (select(InboxEvent.source, bucket, func.count()).where(InboxEvent.received_at >= start)
             .group_by(InboxEvent.source, bucket))
    chart = HourlyChart(hours=labels)
    index = {label: i for i, label in enumerate(labels)}
    with runtime.store.session() as s:
        for source, hour, count in s.execute(query):
            if hour in index:
                chart.counts.setdefault(source, [0] * 24)[index[hour]] += int(count)
    chart.counts = dict(sorted(chart.counts.items()))
    return chart


def open_dead_letters(runtime: "Runtime") -> list[tuple[DeadLetter, InboxEvent]]:
    query = (select(DeadLetter, InboxEvent).join(InboxEvent, InboxEvent.id == DeadLetter.event_id)
             .where(DeadLetter.resolved_at.is_(None)).order_by(DeadLetter.failed_at.desc()).limit(500))
    with runtime.store.session() as s:
        return [(d, e) for d, e in s.execute(query)]


def dead_letter_count(runtime: "Runtime") -> int:
    with runtime.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.resolved_at.is_(None))) or 0)


@dataclass
class EventFilter:
    status: str = ""
    source: str = ""
    kind: str = ""
    q: str = ""
    page: int = 1


def list_events(runtime: "Runtime", f: EventFilter) -> tuple[list[InboxEvent], bool]:
    """One page of events, newest first; the flag says whether a next page exists."""
    query = select(InboxEvent).order_by(InboxEvent.id.desc())
    if f.status:
        query = query.where(InboxEvent.status == f.status)
    if f.source:
        query = query.where(InboxEvent.source == f.source)
    if f.kind:
        query = query.where(InboxEvent.kind == f.kind)
    if f.q:
        query = query.where(or_(InboxEvent.entity_key.contains(f.q, autoescape=True),
                                InboxEvent.idem_key.contains(f.q, autoescape=True)))
    page = max(1, f.page)
    query = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    with runtime.store.session() as s:
        rows = list(s.scalars(query))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def known_sources(runtime: "Runtime") -> list[str]:
    with runtime.store.session() as s:
        stored = set(s.scalars(select(InboxEvent.source).distinct()))
    return sorted(stored | set(runtime.sources) | {"timer", "review"})


@dataclass
class EventDetail:
    event: InboxEvent
    steps: list[TraceStep]
    effects: list[Effect]
    dead_letter: DeadLetter | None


def event_detail(runtime: "Runtime", event_id: int) -> EventDetail | None:
    with runtime.store.session() as s:
        event = s.get(InboxEvent, event_id)
        if event is None:
            return None
        effects = list(s.scalars(select(Effect).where(Effect.event_id == event_id).order_by(Effect.started_at)))
        letter = s.scalar(select(DeadLetter).where(DeadLetter.event_id == event_id))
    return EventDetail(event, runtime.tracer.steps(event_id), effects, letter)


@dataclass
class EntityHistory:
    """What the relay knows about one outside entity and every write that targeted it."""

    key: str
    snapshot: Snapshot | None
    writes: list[tuple[Effect, InboxEvent | None, str]]  # effect, its event, the rule id
    events: list[InboxEvent]


def rule_of(effect_key: str) -> str:
    """Effect keys start with the rule id (see ActionContext.key), so the cause is in the key."""
    return effect_key.split("|", 1)[0]


def entity_history(runtime: "Runtime", key: str) -> EntityHistory:
    with runtime.store.session() as s:
        snapshot = s.get(Snapshot, key)
        rows = s.execute(select(Effect, InboxEvent).outerjoin(InboxEvent, InboxEvent.id == Effect.event_id)
                         .where(Effect.target == key).order_by(Effect.started_at.desc()).limit(200))
        writes = [(effect, event, rule_of(effect.key)) for effect, event in rows]
        events = list(s.scalars(select(InboxEvent).where(InboxEvent.entity_key == key).order_by(InboxEvent.id.desc()).limit(20)))
    return EntityHistory(key, snapshot, writes, events)


def pretty(value: Any) -> str:
    """Indented JSON for <pre> blocks; non-JSON values (dates) become strings."""
    import json
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)

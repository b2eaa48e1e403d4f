"""Run one event through rules without writing anything: shared by `app.py test` and `app.py simulate`.

Actions plan their writes instead of performing them (ActionContext's dry run: `ctx.effect(...,
describe=...)`). The trace steps a connector adds while reading back are kept in memory, and
`PreviewSnapshots` compares the entity with the stored snapshot without storing the new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from relay.actions.context import PlannedWrite
from relay.changes import Change, Normalize, Snapshots, canonical
from relay.engine.engine import Engine
from relay.engine.model import Rule
from relay.errors import PermanentError
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent
from relay.redact import REDACTOR
from relay.store import utcnow
from relay.store.schema import OwnWrite

if TYPE_CHECKING:
    from relay.runtime import Runtime


@dataclass
class DryRun:
    event: Claimed
    plan: list[PlannedWrite] = field(default_factory=list)
    trace: list[tuple[str, str]] = field(default_factory=list)  # (step, message) the connector noted while reading
    error: str | None = None


def claimed(source: str, incoming: IncomingEvent, event_id: int = 0) -> Claimed:
    return Claimed(id=event_id, source=source, kind=incoming.kind, entity_key=incoming.entity_key,
                   idem_key=incoming.idem_key or f"dry-run:{event_id}", payload=incoming.payload, attempts=1, received_at=utcnow())


def dry_run(runtime: "Runtime", rules: list[Rule], event: Claimed) -> DryRun:
    """What `rules` would do with `event`; failures come back as `error`, never raised."""
    result = DryRun(event)
    with runtime.tracer.collecting(event.id):
        try:
            result.plan = Engine(runtime, rules).handle(event, dry_run=True)
        except PermanentError as exc:
            result.error = REDACTOR.text(str(exc))
        except Exception as exc:  # a dry run reports whatever stops the event, as the worker would
            result.error = REDACTOR.text(f"{type(exc).__name__}: {exc}")
        finally:
            result.trace = [(s.step, s.message) for s in runtime.tracer.take()]
    return result


class PreviewSnapshots:
    """Snapshots that compare but never store, so a dry run leaves the store as it found it."""

    def __init__(self, real: Snapshots) -> None:
        self.real = real
        self.store = real.store

    def get(self, entity_key: str) -> dict[str, Any] | None:
        return self.real.get(entity_key)

    def taken_at(self, entity_key: str) -> Any:
        return self.real.taken_at(entity_key)

    def observe(self, entity_key: str, fresh: dict[str, Any], event_id: int | None = None, normalize: Normalize = canonical) -> Change:
        old = self.real.get(entity_key)
        change = Change(entity_key, dict(old or {}), dict(fresh), created=old is None)
        for name in sorted(set(old or {}) | set(fresh)):
            if normalize((old or {}).get(name)) != normalize(fresh.get(name)):
                change.fields[name] = ((old or {}).get(name), fresh.get(name))
        if change.fields:
            with self.store.session() as s:
                writes = s.scalars(select(OwnWrite).where(OwnWrite.entity_key == entity_key, OwnWrite.field.in_(list(change.fields)),
                                                          OwnWrite.expires_at > utcnow())).all()
                own = {(w.field, w.value) for w in writes}
            for name in list(change.fields):
                if (name, normalize(change.fields[name][1])) in own:
                    del change.fields[name]
                    change.echoes.append(name)
        return change

    def record_writes(self, entity_key: str, values: dict[str, Any], normalize: Normalize = canonical) -> None:
        """Nothing is written in a dry run, so there is nothing to remember."""

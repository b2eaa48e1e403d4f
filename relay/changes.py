"""Change detection: compare what an outside system shows now with the last snapshot.

CRM webhooks say "deal 123 changed" and nothing more. The connector reads the deal back; `observe`
turns that fresh state into a `Change` (which fields, old → new) and stores the new snapshot. Values
the relay wrote itself are remembered as own writes: when the CRM's echo of that write comes back,
those fields are dropped from the change, so a rule never reacts to its own output (no loops).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import delete, select

from relay.store import Store, utcnow
from relay.store.schema import OwnWrite, Snapshot

Normalize = Callable[[Any], str]
OWN_WRITE_TTL = timedelta(hours=24)


_MIDNIGHT_UTC = re.compile(r"^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")
_YES, _NO = {"y", "yes", "true"}, {"n", "no", "false"}


def canonical(value: Any) -> str:
    """A comparable text form, so a value reads the same however a CRM spells it back:
    numbers by value ("1000.00" == 1000), booleans as 1/0 ("Y" == "1" == True), date-only values
    sent back as midnight UTC in the portal's offset ("2024-04-19T03:00:00+03:00" == "2024-04-19"),
    everything else as JSON."""
    if isinstance(value, bool):
        return "1.0" if value else "0.0"
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.lower() in _YES:
            return "1.0"
        if stripped.lower() in _NO:
            return "0.0"
        if stripped and stripped.lstrip("-").replace(".", "", 1).isdigit():
            return repr(float(stripped))
        m = _MIDNIGHT_UTC.match(stripped)
        if m:
            moment = datetime.fromisoformat(stripped.replace("Z", "+00:00")).astimezone(timezone.utc)
            if moment.hour == moment.minute == moment.second == 0:
                return moment.date().isoformat()
        return stripped
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass
class Change:
    """What changed in one entity since the relay last looked. Usable in rule conditions."""

    entity_key: str
    old: dict[str, Any]
    new: dict[str, Any]
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    created: bool = False
    echoes: list[str] = field(default_factory=list)

    def changed(self, name: str) -> bool:
        return name in self.fields

    def entered(self, name: str, value: Any) -> bool:
        """The field now has `value` and did not before (a stage entered, a flag set)."""
        return name in self.fields and canonical(self.fields[name][1]) == canonical(value)

    def left(self, name: str, value: Any) -> bool:
        return name in self.fields and canonical(self.fields[name][0]) == canonical(value)

    def __bool__(self) -> bool:
        return self.created or bool(self.fields)

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity_key, "created": self.created, "echoes": self.echoes,
                "fields": {k: {"old": o, "new": n} for k, (o, n) in self.fields.items()}}


class Snapshots:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, entity_key: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.get(Snapshot, entity_key)
            return dict(row.data) if row else None

    def taken_at(self, entity_key: str) -> tuple[dict[str, Any], datetime] | None:
        """The snapshot and when it was stored (a sweep compares that with the entity's modify time)."""
        with self.store.session() as s:
            row = s.get(Snapshot, entity_key)
            return (dict(row.data), row.updated_at) if row else None

    def observe(self, entity_key: str, fresh: dict[str, Any], event_id: int | None = None,
                normalize: Normalize = canonical) -> Change:
        """Diff `fresh` against the snapshot, drop echoes of own writes, store `fresh` as the snapshot."""
        now = utcnow()
        with self.store.session() as s:
            row = s.get(Snapshot, entity_key)
            retry = row is not None and event_id is not None and row.event_id == event_id and row.previous is not None
            old = dict(row.previous if retry else row.data) if row else {}  # type: ignore[arg-type]
            change = Change(entity_key, old, dict(fresh), created=row is None)
            for name in sorted(set(old) | set(fresh)):
                if normalize(old.get(name)) != normalize(fresh.get(name)):
                    change.fields[name] = (old.get(name), fresh.get(name))
            if change.fields:
                writes = s.scalars(select(OwnWrite).where(OwnWrite.entity_key == entity_key, OwnWrite.field.in_(list(change.fields)),
                                                          OwnWrite.expires_at > now).order_by(OwnWrite.id)).all()
                for write in writes:
                    name = write.field
                    if name in change.fields and write.value == normalize(change.fields[name][1]):
                        del change.fields[name]
                        change.echoes.append(name)
                        s.delete(write)
            if row is None:
                s.add(Snapshot(entity_key=entity_key, data=dict(fresh), previous={}, version=1, updated_at=now, event_id=event_id))
            elif change.fields or change.echoes:
                row.previous, row.data = old, dict(fresh)
                row.version, row.updated_at, row.event_id = row.version + 1, now, event_id
            else:
                row.updated_at = now  # confirmed unchanged as of now (the sweep relies on this)
            return change

    def record_writes(self, entity_key: str, values: dict[str, Any], normalize: Normalize = canonical) -> None:
        """Remember values the relay is writing, so their echo is not taken for a change."""
        now = utcnow()
        with self.store.session() as s:
            s.execute(delete(OwnWrite).where(OwnWrite.expires_at <= now))
            for name, value in values.items():
                s.add(OwnWrite(entity_key=entity_key, field=name, value=normalize(value), written_at=now, expires_at=now + OWN_WRITE_TTL))

"""Stage periods: when an entity entered each stage and when it left it.

A snapshot holds only an entity's current stage (and `MOVED_TIME`, when it got there) plus the state
before its last change. The collector walks snapshots changed since its cursor and appends each stage
the entity left to a durable history (a Link per entity), so the feed can show every period, not only
the current one. Running it twice over the same snapshots records nothing new.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from relay.links import Links
from relay.store import Store, utcnow
from relay.store.schema import Cursor, Link, Snapshot

KIND = "calendar.stages"
CURSOR = "calendar.stages"
PREFIXES = ("bitrix24:deal:", "bitrix24:item:")
MAX_PERIODS = 200  # a deal bouncing between stages for years must not grow one row without end
OVERLAP = timedelta(seconds=2)  # snapshots stored in the same instant as the cursor are looked at again


@dataclass(frozen=True)
class Period:
    stage: str
    start: str
    end: str | None  # None: the entity is still in this stage


def stage_fields(entity_key: str) -> tuple[str, str]:
    """Deals spell them STAGE_ID/MOVED_TIME; smart-process items stageId/movedTime."""
    return ("stageId", "movedTime") if entity_key.startswith("bitrix24:item:") else ("STAGE_ID", "MOVED_TIME")


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _later(a: Any, b: Any) -> bool:
    first, second = _moment(a), _moment(b)
    return bool(first and second and first > second)


class StageHistory:
    def __init__(self, store: Store, links: Links) -> None:
        self.store = store
        self.links = links

    def periods(self, entity_key: str, data: dict[str, Any]) -> list[Period]:
        """Every recorded period, then the current one (from the snapshot itself, so it is never stale)."""
        stage_field, moved_field = stage_fields(entity_key)
        with self.store.session() as s:
            row = s.get(Link, (KIND, entity_key))
            closed = list((row.data or {}).get("closed", [])) if row else []
        out = [Period(p["stage"], p["start"], p["end"]) for p in closed]
        stage, moved = data.get(stage_field), data.get(moved_field)
        if stage and moved:
            out.append(Period(str(stage), str(moved), None))
        return out

    def catch_up(self) -> int:
        """Record the stages left since the last run; returns how many periods were closed."""
        now = utcnow()
        with self.store.session() as s:
            cursor = s.get(Cursor, CURSOR)
            since = cursor.updated_at if cursor else None
            query = select(Snapshot.entity_key, Snapshot.data, Snapshot.previous, Snapshot.updated_at).where(
                or_(*[Snapshot.entity_key.like(p + "%") for p in PREFIXES]))
            if since is not None:
                query = query.where(Snapshot.updated_at >= since - OVERLAP)
            rows = s.execute(query).all()
        closed = 0
        for entity_key, data, previous, _ in rows:
            closed += self._record(entity_key, dict(data or {}), dict(previous or {}))
        with self.store.session() as s:
            s.merge(Cursor(name=CURSOR, value=now.isoformat(), updated_at=now))
        return closed

    def _record(self, entity_key: str, data: dict[str, Any], previous: dict[str, Any]) -> int:
        stage_field, moved_field = stage_fields(entity_key)
        stage, moved = data.get(stage_field), data.get(moved_field)
        if not stage or not moved:
            return 0
        current = {"stage": str(stage), "start": str(moved)}
        before_stage, before_moved = previous.get(stage_field), previous.get(moved_field)
        with self.store.session() as s:
            row = s.get(Link, (KIND, entity_key))
            history = dict(row.data or {}) if row else {}
        open_ = history.get("open")
        closed: list[dict[str, Any]] = list(history.get("closed", []))
        added: list[dict[str, Any]] = []
        if open_ is None:
            # First look: the snapshot's previous state may still show the stage just left.
            if before_stage and before_moved and str(before_stage) != current["stage"] and _later(moved, before_moved):
                added.append({"stage": str(before_stage), "start": str(before_moved), "end": current["start"]})
        elif open_ != current:
            # A stage seen by the snapshot's previous state but never by us lay in between.
            if before_stage and before_moved and str(before_stage) != open_["stage"] and _later(before_moved, open_["start"]):
                added += [{**open_, "end": str(before_moved)}, {"stage": str(before_stage), "start": str(before_moved), "end": current["start"]}]
            else:
                added.append({**open_, "end": current["start"]})
        if open_ == current and not added:
            return 0
        self.links.set(KIND, entity_key, current["stage"], {"open": current, "closed": (closed + added)[-MAX_PERIODS:]})
        return len(added)

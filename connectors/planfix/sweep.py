"""The reconciliation sweep: tasks Planfix changed since the last sweep, in case a scenario request
never arrived (Planfix gives up after its retries, or the relay was down for hours).

`POST /task/list` with filter 38 ("last change date", comments excluded) from the cursor, in the
token user's time zone with minute precision, a few minutes of overlap. A task whose snapshot
already shows that change is skipped; the others are queued as `task.changed` events and go
through read-back and change detection like any scenario request. The first sweep only sets the
cursor: changes made before the relay was installed are not news.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.planfix.source import task_key
from connectors.planfix.values import parse_moment
from relay.intake.base import IncomingEvent
from relay.store import utcnow
from relay.store.schema import Cursor

if TYPE_CHECKING:
    from connectors.planfix.connector import PlanfixConnector

log = logging.getLogger("relay.planfix")
CURSOR = "planfix.sweep.tasks"


class Sweep:
    def __init__(self, connector: "PlanfixConnector") -> None:
        self.connector = connector

    def run(self) -> int:
        """Queue an event for every task changed since the cursor that the relay has not seen; returns how many."""
        runtime, zone = self.connector.runtime, self.connector.zone
        now = utcnow()
        with runtime.store.session() as s:
            cursor = s.get(Cursor, CURSOR)
            if cursor is None:
                s.add(Cursor(name=CURSOR, value=now.isoformat(timespec="seconds"), updated_at=now))
                return 0
            since = datetime.fromisoformat(cursor.value)
        start = (since - timedelta(minutes=self.connector.settings.sweep.overlap_minutes)).astimezone(zone)
        rows = self.connector.client.list_all("/task/list", {"fields": "id,dateOfLastUpdate", "filters": [
            {"type": 38, "operator": "gtAndEqual", "value": {"dateType": "otherDate_withTime", "dateFrom": start.strftime("%d-%m-%Y %H:%M")}}]},
            "tasks")
        events, newest = [], since
        for row in rows:
            changed = parse_moment(row.get("dateOfLastUpdate"))
            if changed is None:
                continue
            newest = max(newest, changed)
            key = task_key(row["id"])
            seen = runtime.snapshots.get(key)
            if seen and seen.get("updated") and parse_moment(seen["updated"]) == changed:
                continue
            events.append(IncomingEvent("task.changed", key, {"event": "task.changed", "task": int(row["id"]), "sweep": True},
                                        f"sweep:{row['id']}:{changed.isoformat()}", repeatable=True))
        stored, _ = runtime.inbox.add("planfix", events)
        with runtime.store.session() as s:
            row = s.get(Cursor, CURSOR)
            assert row is not None
            row.value, row.updated_at = max(newest, since).isoformat(timespec="seconds"), now
        if stored:
            log.info("planfix sweep queued %d task(s) whose scenario request never arrived", stored)
        return stored

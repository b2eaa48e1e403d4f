"""The calendar connector: secret-address iCal feeds over the store's snapshots, and the stage-history job."""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from flask import Blueprint
from sqlalchemy import or_, select

from connectors.calendar.feed import FeedBuilder, Row
from connectors.calendar.settings import CalendarSettings, Feed
from connectors.calendar.stages import PREFIXES, StageHistory
from relay.store.schema import Snapshot

if TYPE_CHECKING:
    from relay.runtime import Runtime

STAGE_NAMES_TTL = 3600.0  # renamed stages show up within the hour, without a portal call per request


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class CalendarConnector:
    name = "calendar"

    def __init__(self, settings: CalendarSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.history = StageHistory(runtime.store, runtime.links)
        self.builder = FeedBuilder(settings, self.history.periods, self.stage_name)
        self._tokens = [(name, _digest(feed.token.get_secret_value())) for name, feed in settings.feeds.items()]
        self._names: dict[str, tuple[str, float]] = {}
        self._names_lock = threading.Lock()

    def blueprints(self) -> list[Blueprint]:
        from connectors.calendar.web import build_blueprint
        return [build_blueprint(self)]

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        seconds = self.settings.stage_history_seconds
        return [(seconds, self.history.catch_up, "calendar-stage-history")] if seconds else []

    def feed_for(self, token: str) -> tuple[str, Feed] | None:
        """The feed whose token this is. Every feed is compared, in constant time, whatever matches."""
        given = _digest(token)
        found = None
        for name, expected in self._tokens:
            if hmac.compare_digest(given, expected):
                found = name
        return (found, self.settings.feeds[found]) if found is not None else None

    def render(self, feed: Feed) -> bytes:
        return self.builder.build(feed, self._rows(feed))

    def _rows(self, feed: Feed) -> list[Row]:
        # Deals always: an item is filtered by the pipeline of its deal.
        prefixes = {"bitrix24:deal:"} | {f"bitrix24:item:{e.entity_type_id}:" for e in feed.events if e.entity == "item"}
        with self.runtime.store.session() as s:
            found = s.execute(select(Snapshot.entity_key, Snapshot.data, Snapshot.updated_at)
                              .where(or_(*[Snapshot.entity_key.like(p + "%") for p in sorted(prefixes)]))).all()
        return [Row(key, dict(data or {}), updated) for key, data, updated in found if key.startswith(PREFIXES)]

    def stage_name(self, stage_id: str) -> str:
        """The stage's name as the portal calls it, if a bitrix24 connector is configured; else its id."""
        now = time.monotonic()
        with self._names_lock:
            cached = self._names.get(stage_id)
            if cached and now - cached[1] < STAGE_NAMES_TTL:
                return cached[0]
        name = stage_id
        try:
            b24: Any = self.runtime.connector("bitrix24")
            name = b24.stage_name(stage_id)
        except Exception:  # no portal, or it is down: the id still tells the stage apart
            name = stage_id
        with self._names_lock:
            self._names[stage_id] = (name, now)
        return name

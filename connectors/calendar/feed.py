"""Build one iCalendar (RFC 5545) feed from snapshots: stable UIDs, all-day dates, zoned moments.

The same snapshots always give the same bytes (entries sorted by UID, DTSTAMP from the entity's own
modification time), so an unchanged calendar keeps its ETag and calendar apps download nothing new.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from connectors.calendar.settings import CalendarSettings, Feed, FeedEvent
from connectors.calendar.stages import Period
from relay.changes import canonical
from relay.templating import TemplateError, render

log = logging.getLogger("relay.calendar")
PRODID = "-//CRM Relay//Calendar feed//RU"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Row:
    """One snapshot: `bitrix24:deal:12` or `bitrix24:item:1036:5`, what the relay last read, and when."""

    entity_key: str
    data: dict[str, Any]
    updated_at: datetime


def to_value(raw: Any, zone: ZoneInfo) -> date | datetime | None:
    """A date-only value (or midnight UTC, as portals print date fields) → date; a moment → zoned datetime."""
    if raw in (None, "", [], False):
        return None
    text = canonical(raw)
    if _DATE.match(text):
        return date.fromisoformat(text)
    try:
        moment = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(zone)


def _entity_of(row: Row, spec: FeedEvent) -> bool:
    prefix = "bitrix24:deal:" if spec.entity == "deal" else f"bitrix24:item:{spec.entity_type_id}:"
    return row.entity_key.startswith(prefix)


def _passes(feed: Feed, spec: FeedEvent, data: dict[str, Any], deals: dict[str, dict[str, Any]]) -> bool:
    """Deals by their own pipeline; items by the pipeline of the deal they belong to (parentId2)."""
    if spec.entity == "deal":
        pipeline, owner = data.get("CATEGORY_ID"), data.get("ASSIGNED_BY_ID")
    else:
        pipeline, owner = deals.get(str(data.get("parentId2") or ""), {}).get("CATEGORY_ID"), data.get("assignedById")
    if feed.pipelines and (pipeline is None or str(pipeline) not in feed.pipelines):
        return False
    return not feed.responsible or str(owner) in feed.responsible


def _uid_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-")


class FeedBuilder:
    def __init__(self, settings: CalendarSettings, periods: Callable[[str, dict[str, Any]], list[Period]],
                 stage_name: Callable[[str], str]) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.periods = periods
        self.stage_name = stage_name

    def build(self, feed: Feed, rows: Iterable[Row]) -> bytes:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", feed.name)
        cal.add("x-wr-timezone", self.settings.timezone)
        refresh = timedelta(minutes=self.settings.refresh_minutes)
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", refresh)
        events: list[Event] = []
        rows = list(rows)
        deals = {row.entity_key.rsplit(":", 1)[1]: row.data for row in rows if row.entity_key.startswith("bitrix24:deal:")}
        for row in rows:
            for spec in feed.events:
                if _entity_of(row, spec) and _passes(feed, spec, row.data, deals):
                    events.extend(self._stage_entries(row, spec) if spec.stages else self._date_entries(row, spec))
        for event in sorted(events, key=lambda e: str(e["uid"])):
            cal.add_component(event)
        if any(isinstance(e.get("dtstart").dt, datetime) for e in events):
            cal.add_missing_timezones()
        return cal.to_ical()

    def _date_entries(self, row: Row, spec: FeedEvent) -> list[Event]:
        start = to_value(row.data.get(spec.start), self.zone)
        if start is None:
            return []
        end = to_value(row.data.get(spec.end), self.zone) if spec.end else None
        if isinstance(start, datetime):
            end = end if isinstance(end, datetime) and end > start else None
        else:
            end_day = end.date() if isinstance(end, datetime) else end
            # All-day DTEND is exclusive: the day after the last day.
            end = (end_day if end_day and end_day >= start else start) + timedelta(days=1)
        uid = f"{_uid_part(row.entity_key)}-{spec.name}@{self.settings.uid_domain}"
        return [self._event(row, spec, uid, start, end, {})]

    def _stage_entries(self, row: Row, spec: FeedEvent) -> list[Event]:
        out = []
        for period in self.periods(row.entity_key, row.data):
            start = to_value(period.start, self.zone)
            if start is None:
                continue
            end = to_value(period.end, self.zone) if period.end else None
            if isinstance(start, date) and not isinstance(start, datetime):
                start = datetime.combine(start, datetime.min.time(), self.zone)
            end = end if isinstance(end, datetime) and end >= start else None
            stamp = start.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            uid = f"{_uid_part(row.entity_key)}-{spec.name}-{_uid_part(period.stage)}-{stamp}@{self.settings.uid_domain}"
            out.append(self._event(row, spec, uid, start, end, {"stage_id": period.stage, "stage_name": self.stage_name(period.stage)}))
        return out

    def _event(self, row: Row, spec: FeedEvent, uid: str, start: date | datetime, end: date | datetime | None,
               extra: dict[str, Any]) -> Event:
        title = str(row.data.get("TITLE") or row.data.get("title") or row.entity_key)
        context = {"entity": row.data, "title": title, "stage_id": "", "stage_name": "", **extra}
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", self._stamp(row))
        event.add("dtstart", start)
        if end is not None:
            event.add("dtend", end)
        event.add("summary", self._render(spec.summary, context, title))
        description = self._render(spec.description, context, "") if spec.description else ""
        if description:
            event.add("description", description)
        return event

    def _stamp(self, row: Row) -> datetime:
        """When the entity last changed (its own field), so DTSTAMP does not move on every request."""
        for name in ("DATE_MODIFY", "updatedTime"):
            moment = to_value(row.data.get(name), self.zone)
            if isinstance(moment, datetime):
                return moment.astimezone(timezone.utc)
        return row.updated_at.astimezone(timezone.utc).replace(microsecond=0)

    @staticmethod
    def _render(template: str, context: dict[str, Any], fallback: str) -> str:
        try:
            return render(template, context).strip() or fallback
        except TemplateError as exc:
            # One broken template must not take the whole calendar down; the log says which.
            log.warning("calendar entry template failed, using the title: %s", exc)
            return fallback

"""Planfix date shapes: `dd-MM-yyyy` strings and `{"date","time","datetime"}` points.

Requests may carry `{"date":"01-01-2023","time":"12:15"}` or `"01-01-2023 12:15:00"` (the contact
example even uses dots: `"01.12.1991"`); responses always carry all three parts. `date`/`time`
are rendered in the account's time zone and `datetime` in UTC with a `Z`; the spec examples only
ever show midnight UTC, so the offset is a seed setting (`account.utc_offset_hours`, default 0).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

_DATE = re.compile(r"^\s*(\d{1,2})[-.](\d{1,2})[-.](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?Z?\s*$")


@dataclass(frozen=True)
class When:
    """A moment (aware, UTC) plus whether the client gave a time of day (Planfix's hasXTime)."""

    at: datetime
    has_time: bool = True


class Dates:
    """Parse and render Planfix dates in one account time zone."""

    def __init__(self, utc_offset_hours: float = 0.0) -> None:
        self.tz = timezone(timedelta(hours=utc_offset_hours))

    # -- parsing -------------------------------------------------------------------------
    def parse(self, value: Any) -> When:
        """A request date (object or string) as a `When`; ValueError if unreadable."""
        if isinstance(value, When):
            return value
        if isinstance(value, dict):
            if value.get("date"):
                text = str(value["date"])
                if value.get("time"):
                    text += " " + str(value["time"])
                return self.parse(text)
            if value.get("datetime"):
                return self._iso(str(value["datetime"]))
            raise ValueError("date object without date")
        if isinstance(value, str):
            m = _DATE.match(value)
            if not m:
                if _ISO.match(value):
                    return self._iso(value)
                raise ValueError(f"unreadable date {value!r}")
            day, month, year, hour, minute = m.group(1, 2, 3, 4, 5)
            local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=self.tz)
            return When(local.astimezone(timezone.utc), hour is not None)
        raise ValueError(f"unreadable date {value!r}")

    def _iso(self, text: str) -> When:
        m = _ISO.match(text)
        if not m:
            raise ValueError(f"unreadable datetime {text!r}")
        y, mo, d, h, mi = (int(x) for x in m.groups())
        return When(datetime(y, mo, d, h, mi, tzinfo=timezone.utc), True)

    @staticmethod
    def parse_time(value: Any) -> str:
        """`{"time":"17:55"}` or `"17:55"` as canonical `HH:MM`."""
        text = value.get("time") if isinstance(value, dict) else value
        m = _TIME.match(str(text or ""))
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"unreadable time {value!r}")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    # -- rendering -----------------------------------------------------------------------
    def local(self, when: When | datetime) -> datetime:
        at = when.at if isinstance(when, When) else when
        return at.astimezone(self.tz)

    def point(self, when: When | datetime | None) -> dict[str, str] | None:
        """The response shape `{"date":"dd-MM-yyyy","time":"HH:mm","datetime":"yyyy-MM-ddTHH:mmZ"}`."""
        if when is None:
            return None
        at = when.at if isinstance(when, When) else when
        local = at.astimezone(self.tz)
        return {"date": local.strftime("%d-%m-%Y"), "time": local.strftime("%H:%M"),
                "datetime": at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}

    def text(self, when: When | datetime | None, with_time: bool = True) -> str:
        """How a date reads inside a scenario template: `dd-MM-yyyy[ HH:mm]`."""
        if when is None:
            return ""
        local = self.local(when)
        has_time = when.has_time if isinstance(when, When) else True
        return local.strftime("%d-%m-%Y %H:%M" if (with_time and has_time) else "%d-%m-%Y")

    def from_ts(self, ts: float) -> datetime:
        # Planfix keeps minutes only; dropping seconds makes "changed at" filters behave as on the wire.
        return datetime.fromtimestamp(ts, tz=timezone.utc).replace(second=0, microsecond=0)

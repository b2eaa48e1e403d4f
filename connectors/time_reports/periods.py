"""Report periods: half-months (1–15 and 16 to the month's end) in the report's time zone, or any range.

Written as `2024-05-1` (1–15 May 2024), `2024-05-2` (16–31 May), `last` (the last half-month that has
ended), `current`, or `2024-05-03..2024-05-10` (both days included).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

_HALF = re.compile(r"^(\d{4})-(\d{2})-([12])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
EXAMPLES = "last, current, 2024-05-1 (1–15 May), 2024-05-2 (16–31 May) or 2024-05-03..2024-05-10"


class PeriodError(ValueError):
    """A period the report cannot read; the message shows the accepted forms."""


@dataclass(frozen=True)
class Period:
    label: str
    first: date   # the first day
    last: date    # the last day, included

    def start(self, zone: tzinfo) -> datetime:
        return datetime.combine(self.first, time(0), zone)

    def end(self, zone: tzinfo) -> datetime:
        """The moment after the period: midnight after its last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), zone)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "first": self.first.isoformat(), "last": self.last.isoformat(),
                "first_day": self.first.day, "last_day": self.last.day, "month": self.first.month, "year": self.first.year,
                "same_month": (self.first.year, self.first.month) == (self.last.year, self.last.month)}


def half_month(day: date) -> Period:
    """The half-month `day` falls in."""
    if day.day <= 15:
        return Period(f"{day:%Y-%m}-1", day.replace(day=1), day.replace(day=15))
    return Period(f"{day:%Y-%m}-2", day.replace(day=16), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def last_closed(today: date) -> Period:
    """The latest half-month that ended before `today`."""
    return half_month(half_month(today).first - timedelta(days=1))


def parse_period(text: str, today: date) -> Period:
    value = text.strip().lower()
    if value == "last":
        return last_closed(today)
    if value == "current":
        return half_month(today)
    half = _HALF.match(value)
    try:
        if half:
            year, month, which = int(half.group(1)), int(half.group(2)), half.group(3)
            return half_month(date(year, month, 1 if which == "1" else 16))
        span = _RANGE.match(value)
        if span:
            first, last = date.fromisoformat(span.group(1)), date.fromisoformat(span.group(2))
            if last < first:
                raise PeriodError(f"period {text!r} ends before it begins")
            return Period(value, first, last)
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"period {text!r}: {exc} (write one of: {EXAMPLES})") from None
    raise PeriodError(f"period {text!r} is not one of: {EXAMPLES}")

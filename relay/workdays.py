"""Working-day arithmetic: weekends and public holidays skipped, transferred working days honoured.

The `holidays` package knows Russia's official calendar including Saturdays made working days by
decree; an override file covers decrees published after the installed package.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import yaml


@dataclass(frozen=True)
class Calendar:
    country: str = "RU"
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return bool(_official(self.country, day.year).is_working_day(day))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day, `days` working days after `start` (start's own day not counted)."""
        current = start
        remaining = days
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_working_day(current.date()):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        sign = 1 if end >= start else -1
        lo, hi = (start, end) if sign > 0 else (end, start)
        count = sum(1 for n in range(1, (hi - lo).days + 1) if self.is_working_day(lo + timedelta(days=n)))
        return sign * count


    def working_hours_between(self, start: datetime | str, end: datetime | str, day_start: int = 9, day_end: int = 18) -> float:
        """Working hours from `start` to `end`: only working days, only between day_start and day_end."""
        a, b = _as_datetime(start), _as_datetime(end)
        if b <= a:
            return 0.0
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                opens = datetime.combine(day, time(day_start), a.tzinfo)
                closes = datetime.combine(day, time(day_end), a.tzinfo)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
            day += timedelta(days=1)
        return round(total, 2)


def _as_datetime(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@lru_cache(maxsize=64)
def _official(country: str, year: int) -> Any:
    return holidays.country_holidays(country, years=[year])


def load_calendar(country: str = "RU", overrides: Path | None = None) -> Calendar:
    """An override file: `holidays: [2026-12-31]`, `workdays: [2026-12-27]` (ISO dates)."""
    if overrides is None:
        return Calendar(country)
    data = yaml.safe_load(overrides.read_text(encoding="utf-8")) or {}
    as_dates = lambda items: frozenset(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in items or [])  # noqa: E731
    return Calendar(country, as_dates(data.get("holidays")), as_dates(data.get("workdays")))

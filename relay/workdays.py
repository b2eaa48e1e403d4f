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
    """The official calendar of `country`, patched by an override file for decrees published after
    the installed `holidays` package (YAML or JSON, ISO dates):

        holidays: [2026-12-31]          # made a day off
        workdays: [2026-12-26]          # a Saturday made a working day

    Raises ConfigError naming the file, line and entry of every problem."""
    if overrides is None:
        return Calendar(country)
    extra_holidays, extra_workdays = _read_overrides(overrides)
    return Calendar(country, extra_holidays, extra_workdays)


def _read_overrides(path: Path) -> tuple[frozenset[date], frozenset[date]]:
    from relay.config.errors import ConfigError, ConfigProblem
    from relay.config.yamlfile import read_yaml
    try:
        doc, problems = read_yaml(path, display=str(path))
    except ValueError as exc:  # YAML reads 2025-13-01 as a date and fails on it
        raise ConfigError([ConfigProblem(str(path), None, "", f"not a valid date: {exc} (write YYYY-MM-DD)")]) from None
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(problems or [ConfigProblem(doc.file, 1, "", "expected `holidays:` and/or `workdays:` lists of dates")])
    days: dict[str, set[date]] = {"holidays": set(), "workdays": set()}
    for key, value in data.items():
        if key not in days:
            problems.append(ConfigProblem(doc.file, doc.line_of((key,)), str(key), "unknown key (expected holidays, workdays)"))
        elif not isinstance(value or [], list):
            problems.append(ConfigProblem(doc.file, doc.line_of((key,)), key, "expected a list of dates (YYYY-MM-DD)"))
        else:
            for n, item in enumerate(value or []):
                try:
                    days[key].add(item if isinstance(item, date) else date.fromisoformat(str(item)))
                except ValueError:
                    problems.append(ConfigProblem(doc.file, doc.line_of((key, n)), f"{key}[{n}]", f"{item!r} is not a date (YYYY-MM-DD)"))
    both = days["holidays"] & days["workdays"]
    if both:
        problems.append(ConfigProblem(doc.file, None, "", "listed as both holiday and workday: " + ", ".join(sorted(map(str, both)))))
    if problems:
        raise ConfigError(problems)
    return frozenset(days["holidays"]), frozenset(days["workdays"])

"""Portal time: how Bitrix24 writes and reads dates on the wire.

Datetimes go out as ISO 8601 with the portal's offset. Date-only values go out as "midnight UTC shown
in the portal offset" (`date('c', MakeTimeStamp(d) + date('Z'))`), e.g. "2024-04-19T03:00:00+03:00" on
a +03:00 portal; clients that take the date part must cope. Input is as forgiving as PHP `strtotime`
for the shapes clients actually send.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def make_tz(offset: str) -> timezone:
    """"+03:00" → a fixed-offset timezone (portals run in one configured zone)."""
    m = _OFFSET.match(offset.strip())
    if not m:
        raise ValueError(f"bad timezone offset {offset!r}; use +HH:MM")
    sign = 1 if m.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def from_unix(ts: float, tz: timezone) -> datetime:
    return datetime.fromtimestamp(int(ts), tz)


def iso(dt: datetime | None, tz: timezone) -> str:
    """Datetime on the wire: second precision, portal offset."""
    if dt is None:
        return ""
    return dt.astimezone(tz).replace(microsecond=0).isoformat()


def iso_date(d: date | None, tz: timezone) -> str:
    """Date-only on the wire: local midnight shifted by the UTC offset, as CRestUtil::ConvertDate does."""
    if d is None:
        return ""
    offset = tz.utcoffset(None) or timedelta(0)
    return (datetime(d.year, d.month, d.day, tzinfo=tz) + offset).isoformat()


def parse_datetime(value: Any, tz: timezone) -> datetime | None:
    """Accept ISO (with or without offset), YYYY-MM-DD, DD.MM.YYYY [HH:MM[:SS]], unix seconds."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz)
    text = str(value).strip()
    m = _RU_DATE.match(text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh, mm, ss = (int(m.group(i) or 0) for i in (4, 5, 6))
        return datetime(year, month, day, hh, mm, ss, tzinfo=tz)
    if text.isdigit() and len(text) >= 9:
        return datetime.fromtimestamp(int(text), tz)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def parse_date(value: Any, tz: timezone) -> date | None:
    """A date field's value: the calendar day of the parsed moment, in the portal zone."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    dt = parse_datetime(value, tz)
    return None if dt is None else dt.astimezone(tz).date()

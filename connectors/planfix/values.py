"""Custom-field values and dates: Planfix's read shapes → plain values for rules, and rule values
(usually rendered template text) → the write shape each field type wants.

Write shapes per type id (reference §1.7): line/text/list → string, number → number, date →
`{"date": "dd-MM-yyyy"}`, time → `{"time": "HH:mm"}`, date and time → `"dd-MM-yyyy HH:mm"`,
checkbox → bool, directory entry / task / project → `{"id": N}`, person → `{"id": "user:5"}`,
list of people → `[{"id": …}]`, sets → lists, files → list of ids.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone, tzinfo
from typing import Any

PEOPLE, PEOPLE_LIST = (10, 11, 12, 13), 14
_DMY = re.compile(r"^(\d{2})[-.](\d{2})[-.](\d{4})(?:[ T](\d{2}):(\d{2}))?")
_YES = {"1", "true", "yes", "да", "y"}


class ValueProblem(ValueError):
    """A value that cannot be written to a field of this type (the message says what was expected)."""


# --- reading ---------------------------------------------------------------------------------
def plain(ftype: int, value: Any) -> Any:
    """What a rule sees of a field: text, number, ISO date, person id, list of those."""
    if value in (None, "", [], {}):
        return None
    if ftype in (3, 5, 28) and isinstance(value, dict):
        return local_iso(f"{value.get('date', '')} {value.get('time', '') if ftype != 3 else ''}")
    if ftype in (9, 15) and isinstance(value, (dict, list)):
        items = [v.get("value") for v in _as_list(value) if isinstance(v, dict)]
        return items[0] if ftype == 9 else items
    if ftype in PEOPLE or ftype in (16, 22):
        return value.get("id") if isinstance(value, dict) else value
    if ftype in (PEOPLE_LIST, 17):
        return [v.get("id") for v in _as_list(value) if isinstance(v, dict)]
    return value


def local_iso(text: str) -> str | None:
    """`31-05-2024` → `2024-05-31`; `31-05-2024 18:00` → `2024-05-31T18:00` (the account's local time)."""
    m = _DMY.match(text.strip())
    if not m:
        return None
    day, month, year, hour, minute = m.groups()
    return f"{year}-{month}-{day}" + (f"T{hour}:{minute}" if hour else "")


def parse_moment(value: Any, zone: tzinfo = timezone.utc) -> datetime | None:
    """A Planfix date object (`datetime` is UTC; `date`/`time` are local) or a date string → aware datetime."""
    if isinstance(value, dict):
        stamp = str(value.get("datetime") or "")
        if stamp:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        value = f"{value.get('date', '')} {value.get('time', '')}".strip()
    if not value:
        return None
    m = _DMY.match(str(value))
    if m:
        day, month, year, hour, minute = m.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=zone)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


# --- writing ---------------------------------------------------------------------------------
def as_moment(value: Any, zone: tzinfo) -> datetime:
    """ISO (`2024-05-01`, `2024-05-01T10:00+03:00`) or Planfix (`01-05-2024 10:00`) text → local datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = parse_moment(str(value).strip(), zone) or datetime.min
        except ValueError:
            raise ValueProblem(f"{value!r} is not a date (write 2024-05-31, 2024-05-31T18:00 or 31-05-2024 18:00)") from None
        if moment == datetime.min:
            raise ValueProblem("a date is required")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def date_object(value: Any, zone: tzinfo, with_time: bool = True) -> dict[str, str]:
    """`{"date": "dd-MM-yyyy", "time": "HH:mm"}` in the account's zone (what requests accept)."""
    moment = as_moment(value, zone)
    out = {"date": moment.strftime("%d-%m-%Y")}
    if with_time:
        out["time"] = moment.strftime("%H:%M")
    return out


def write_shape(ftype: int, value: Any, zone: tzinfo) -> Any:
    """The request value for a field of type `ftype`; raises ValueProblem saying what was expected."""
    if isinstance(value, str):
        value = value.strip()
        if value[:1] in "[{" and value[-1:] in "]}":
            try:
                value = json.loads(value)
            except ValueError:
                pass
    if ftype in (0, 2, 8):
        return "" if value is None else str(value)
    if ftype == 1:
        return _number(value)
    if ftype == 3:
        return date_object(value, zone, with_time=False)
    if ftype == 4:
        return {"time": str(value)[:5]} if re.match(r"^\d{1,2}:\d{2}", str(value)) else _fail(value, "a time such as 17:55")
    if ftype in (5, 28):
        moment = as_moment(value, zone)
        return moment.strftime("%d-%m-%Y %H:%M")
    if ftype == 7:
        return value if isinstance(value, bool) else str(value).strip().lower() in _YES
    if ftype in (9, 16, 22):
        return value if isinstance(value, dict) else {"id": _int(value)}
    if ftype in PEOPLE:
        return value if isinstance(value, dict) else {"id": person_ref(value, "contact" if ftype in (10, 12) else "user")}
    if ftype == PEOPLE_LIST:
        return [v if isinstance(v, dict) else {"id": person_ref(v)} for v in _items(value)]
    if ftype in (15, 17):
        return [v if isinstance(v, dict) else {"id": _int(v)} for v in _items(value)]
    if ftype == 20:
        return [str(v) for v in _items(value)]
    if ftype == 21:
        return [_int(v) for v in _items(value)]
    return value


def person_ref(value: Any, default: str = "user") -> str:
    """`5`, `user:5`, `contact:7`, `group:3` → a prefixed id."""
    text = str(value).strip()
    if re.fullmatch(r"(user|contact|group):\d+", text):
        return text
    if text.isdigit():
        return f"{default}:{text}"
    raise ValueProblem(f"{value!r} is not a person (write user:5, contact:7 or group:3)")


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value in (None, ""):
        return []
    return [v.strip() for v in str(value).replace(";", ",").split(",") if v.strip()]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value).replace(",", ".").replace(" ", ""))
    except ValueError:
        _fail(value, "a number")
    return int(number) if number.is_integer() else number


def _int(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit():
        _fail(value, "a numeric id")
    return int(text)


def _fail(value: Any, expected: str) -> Any:
    raise ValueProblem(f"{value!r} is not {expected}")

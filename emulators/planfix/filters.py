"""`filters` of the list calls: task types, contact 40xx, employee 90xx, data-tag entry 31xx.

Filters are ANDed; `value` may be a scalar or a list (OR). Date filters take Planfix's date
object (`dateType` today/yesterday/…/otherDate/otherRange/…_withTime) read in the account time
zone, with minute precision: `gt` a minute means "from the next minute on", as Planfix stores
minutes only. Custom-field filters (1xx, 41xx, 91xx, 31xx) compare by the field's own type.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from .dates import When
from .errors import bad_value
from .state import PlanfixState
from .values import FieldError, normalise

Obj = dict[str, Any]


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ids(value: Any) -> set[int]:
    out = set()
    for v in _values(value):
        text = str(v.get("id") if isinstance(v, dict) else v).split("//")[0].strip()
        out.add(int(text.split(":")[-1]))
    return out


def _refs(value: Any, default: str) -> set[str]:
    out = set()
    for v in _values(value):
        text = str(v).strip()
        out.add(text if ":" in text else f"{default}:{text}")
    return out


def period(state: PlanfixState, value: Any) -> tuple[datetime, datetime]:
    """A date-filter object as a [start, end) range of local times."""
    if not isinstance(value, dict) or "dateType" not in value:
        raise bad_value("Invalid date filter value")
    kind = value["dateType"]
    today = state.dates.local(state.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    day, week, n = timedelta(days=1), timedelta(days=7), int(str(value.get("dateValue") or 0).strip() or 0) \
        if kind in ("last", "next", "in") else 0
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    simple = {"today": (today, today + day), "yesterday": (today - day, today),
              "tomorrow": (today + day, today + 2 * day), "thisWeek": (monday, monday + week),
              "lastWeek": (monday - week, monday), "nextWeek": (monday + week, monday + 2 * week),
              "thisMonth": (first, next_first), "lastMonth": ((first - day).replace(day=1), first),
              "nextMonth": (next_first, (next_first + timedelta(days=32)).replace(day=1)),
              "last": (today - n * day, today + day), "next": (today, today + (n + 1) * day),
              "in": (today + n * day, today + (n + 1) * day)}
    if kind in simple:
        return simple[kind]
    try:
        if kind in ("otherDate", "otherDate_withTime"):
            point = state.dates.local(state.dates.parse(value.get("dateValue") or value.get("dateFrom")))
            return (point, point + timedelta(minutes=1)) if kind.endswith("withTime") else (point, point + day)
        if kind in ("otherRange", "otherRange_withTime"):
            start = state.dates.local(state.dates.parse(value["dateFrom"]))
            end = state.dates.local(state.dates.parse(value["dateTo"]))
            return (start, end + timedelta(minutes=1)) if kind.endswith("withTime") else (start, end + day)
    except (KeyError, ValueError) as exc:
        raise bad_value(f"Invalid date filter value: {exc}") from exc
    raise bad_value(f"Unknown dateType {kind}")


def date_match(state: PlanfixState, moment: When | datetime | None, operator: str, value: Any) -> bool:
    start, end = period(state, value)
    if moment is None:
        return False
    x = state.dates.local(moment)
    tests = {"equal": start <= x < end, "notequal": not start <= x < end, "gt": x >= end, "lt": x < start,
             "gtAndEqual": x >= start, "ltAndEqual": x < end}
    if operator not in tests:
        raise bad_value(f"Invalid operator {operator}")
    return tests[operator]


def compare(operator: str, hit: bool) -> bool:
    if operator in ("equal", "have"):
        return hit
    if operator in ("notequal", "nothave"):
        return not hit
    raise bad_value(f"Invalid operator {operator}")


def custom_match(state: PlanfixState, obj: Obj, field_id: Any, operator: str, value: Any) -> bool:
    """One custom-field filter, by the field's type."""
    try:
        field = state.fields[int(field_id)]
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_value(f"Custom field not found by id {field_id}") from exc
    ftype, have = int(field["type"]), obj["custom"].get(field["id"])
    if ftype in (3, 5, 28):
        return date_match(state, have, operator, value)
    if ftype == 1 and operator in ("gt", "lt"):
        return have is not None and (have > float(value) if operator == "gt" else have < float(value))
    if ftype in (0, 2, 8, 20):
        texts = [str(v) for v in _values(have)] if have is not None else []
        wanted = [str(v) for v in _values(value)]
        if operator in ("have", "nothave"):
            return compare(operator, any(w.lower() in t.lower() for w in wanted for t in texts))
        return compare(operator, any(t in wanted for t in texts))
    if ftype in (9, 15, 16, 17, 22, 21):
        keys = set(_values(have)) if have is not None else set()
        wanted = set()
        for v in _values(value):
            wanted |= {int(p.split("//")[0]) for p in str(v).split(";") if p.split("//")[0].strip()}
        return compare(operator, bool(keys & wanted))
    if ftype in (10, 11, 12, 13, 14):
        refs = set(_values(have)) if have is not None else set()
        return compare(operator, bool(refs & _refs(value, "contact" if ftype in (10, 12) else "user")))
    try:
        wanted_values = [normalise(field, v, state) for v in _values(value)]
    except (FieldError, ValueError) as exc:
        raise bad_value(f"Invalid filter value for field {field_id}") from exc
    return compare(operator, have in wanted_values)


def _people(key: str) -> Callable[[PlanfixState, Obj, str, Any], bool]:
    def test(state: PlanfixState, task: Obj, op: str, value: Any) -> bool:
        refs = set(task[key]["users"]) | {f"group:{g}" for g in task[key]["groups"]}
        return compare(op, bool(refs & _refs(value, "user")))
    return test


def _scalar(get: Callable[[Obj], Any]) -> Callable[[PlanfixState, Obj, str, Any], bool]:
    return lambda state, task, op, value: compare(op, get(task) in _ids(value))


def _date(get: Callable[[PlanfixState, Obj], Any]) -> Callable[[PlanfixState, Obj, str, Any], bool]:
    return lambda state, task, op, value: date_match(state, get(state, task), op, value)


def _task_tags(state: PlanfixState, task: Obj) -> set[int]:
    return {e["dataTag"] for e in state.entries.values() if e["task"] == task["id"]}


def _last_activity(state: PlanfixState, task: Obj) -> Any:
    moments = [m for m in (task["dateOfLastUpdate"], task.get("lastCommentAt")) if m]
    return max(moments) if moments else None


TASK_FILTERS: dict[int, Callable[[PlanfixState, Obj, str, Any], bool]] = {
    1: lambda s, t, op, v: compare(op, t["assigner"] in _refs(v, "user")),
    2: _people("assignees"), 3: _people("auditors"), 39: _people("participants"),
    5: _scalar(lambda t: t["project"]), 10: _scalar(lambda t: t["status"]), 24: _scalar(lambda t: t["processId"]),
    57: _scalar(lambda t: t["id"]), 73: _scalar(lambda t: t["parent"]),
    51: lambda s, t, op, v: compare(op, bool({t["template"], t["object"]} & _ids(v))),
    7: lambda s, t, op, v: compare(op, t["counterparty"] in _refs(v, "contact")),
    8: lambda s, t, op, v: compare(op, str(v).lower() in t["name"].lower()),
    9: lambda s, t, op, v: compare(op, t["priority"] in _values(v)),
    25: lambda s, t, op, v: compare(op, bool(t["startDateTime"]) == bool(v)),
    12: _date(lambda s, t: t["dateTime"]), 13: _date(lambda s, t: t["startDateTime"]),
    14: _date(lambda s, t: t["endDateTime"]), 19: _date(lambda s, t: t["actualCompletionDate"]),
    20: _date(lambda s, t: t["actualCompletionDate"]), 21: _date(lambda s, t: t.get("lastCommentAt")),
    38: _date(lambda s, t: t["dateOfLastUpdate"]), 79: _date(_last_activity),
    11: lambda s, t, op, v: compare(op, bool(_ids(v) & _task_tags(s, t))),
    18: lambda s, t, op, v: not compare(op, bool(_ids(v) & _task_tags(s, t))),
}

_TG = lambda text: str(text or "").strip().lower().removeprefix("https://t.me/").removeprefix("@")  # noqa: E731
_DIGITS = lambda text: "".join(ch for ch in str(text or "") if ch.isdigit())  # noqa: E731
CONTACT_FILTERS: dict[int, Callable[[PlanfixState, Obj, str, Any], bool]] = {
    4001: lambda s, c, op, v: compare(op, str(v).lower() in (s.person_name(f"contact:{c['id']}") or "").lower()),
    4002: lambda s, c, op, v: compare(op, str(v).lower() == str(c.get("position") or "").lower()),
    4003: lambda s, c, op, v: compare(op, any(_DIGITS(p["number"])[-10:] == _DIGITS(v)[-10:]
                                              for p in c.get("phones", []))),
    4005: lambda s, c, op, v: compare(op, str(v).lower() in str(c.get("email") or "").lower()),
    4026: lambda s, c, op, v: compare(op, str(v).lower() == str(c.get("email") or "").lower()),
    4008: lambda s, c, op, v: compare(op, c.get("group") in _ids(v)),
    4014: lambda s, c, op, v: compare(op, str(v) == c.get("name")),
    4015: lambda s, c, op, v: compare(op, str(v) == c.get("lastname")),
    4222: lambda s, c, op, v: compare(op, str(v) == c.get("midname")),
    4226: lambda s, c, op, v: compare(op, bool(c.get("telegram")) and _TG(v) == _TG(c.get("telegram"))),
    4234: lambda s, c, op, v: compare(op, str(v) == str(c.get("telegramId") or "")),
    4231: _scalar(lambda c: c["id"]),
}

USER_FILTERS: dict[int, Callable[[PlanfixState, Obj, str, Any], bool]] = {
    9001: lambda s, u, op, v: compare(op, bool(set(u.get("groups", [])) & _ids(v))),
    9003: lambda s, u, op, v: compare(op, str(v).lower() == str(u.get("email") or "").lower()),
    9006: lambda s, u, op, v: compare(op, str(v).lower() in (s.person_name(f"user:{u['id']}") or "").lower()),
    9008: _scalar(lambda u: u["id"]), 9009: lambda s, u, op, v: compare(op, u.get("role") in _values(v)),
    9126: lambda s, u, op, v: compare(op, str(v) == str(u.get("telegramId") or "")),
}


def matches(state: PlanfixState, obj: Obj, filters: Any, table: dict[int, Any], custom_base: int | None) -> bool:
    """True if `obj` passes every filter; unknown types are code 41 (Planfix's answer is undocumented)."""
    for flt in filters or []:
        if not isinstance(flt, dict) or "type" not in flt:
            raise bad_value("Invalid filter")
        try:
            ftype = int(flt["type"])
        except (TypeError, ValueError) as exc:
            raise bad_value(f"Invalid filter type {flt['type']!r}") from exc
        op, value = str(flt.get("operator", "equal")), flt.get("value")
        if op == "equals":  # the spec's own examples spell it so for type 93
            op = "equal"
        if ftype in table:
            ok = table[ftype](state, obj, op, value)
        elif custom_base is not None and ftype in (custom_base + 52, custom_base + 53):
            has = obj["custom"].get(int(flt.get("field") or value)) not in (None, "", [], False)
            ok = has if ftype == custom_base + 52 else not has
        elif custom_base is not None and custom_base + 1 <= ftype <= custom_base + 18:
            ok = custom_match(state, obj, flt.get("field"), op, value)
        else:
            raise bad_value(f"Unsupported filter type {ftype}")
        if not ok:
            return False
    return True

CUSTOM_BASES = {"task": 100, "contact": 4100, "user": 9100, "entry": 3100}
"""Custom-field filter types are base+1 … base+18; base+52 / base+53 = "has / has no value"."""

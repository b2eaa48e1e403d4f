"""Custom-field values: the write shape a client sends, the canonical form kept, the read shape.

Planfix accepts several spellings per field type (`{"id":5}` or `{"id":"contact:5"}` for a
contact, a string or an object for a date-time) and answers one richer shape (names added,
dates expanded). Values are stored canonically (ids, `When`s) and names are looked up at read
time, so renaming a contact shows up in every field that points at it, as in Planfix.
"""
from __future__ import annotations

from typing import Any, Protocol

from .dates import Dates, When

TYPE_NAMES = {0: "Line", 1: "Number", 2: "Text", 3: "Date", 4: "Time", 5: "Date and time", 6: "",
              7: "Checkbox", 8: "List", 9: "Directory entry", 10: "Contact", 11: "Employee",
              12: "Counterparty", 13: "Group, employee, or contact", 14: "List of users",
              15: "Set of directory values", 16: "Task", 17: "Task set", 20: "Set of values", 21: "Files",
              22: "Project", 23: "Data tag summaries", 24: "Calculated field", 25: "Location",
              26: "Subtask total", 27: "AI results field", 28: "Date with time frame", 29: "Totals field"}
"""`GET /customfield/type` verbatim (the spec leaves type 6, "Period of time", unnamed)."""

READ_ONLY = {23, 24, 26, 27, 29}
_DEFAULT_PREFIX = {10: "contact", 11: "user", 12: "contact", 13: "user", 14: "user"}


class FieldError(ValueError):
    """A value that does not fit its field; becomes a `failures` entry or a code-41 error."""


class Lookup(Protocol):
    """What value handling needs from the account state."""

    dates: Dates

    def person_name(self, ref: str) -> str | None: ...
    def task_name(self, task_id: int) -> str | None: ...
    def project_name(self, project_id: int) -> str | None: ...
    def directory_value(self, directory_id: int | None, key: int) -> str | None: ...
    def file_exists(self, file_id: int) -> bool: ...


def person_ref(value: Any, default_prefix: str = "user") -> str:
    """`{"id":"contact:5"}`, `{"id":5}`, `"contact:5"` or `5` as a prefixed id."""
    raw = value.get("id") if isinstance(value, dict) else value
    text = str(raw if raw is not None else "").strip()
    if ":" in text:
        prefix, _, number = text.partition(":")
        if prefix in ("user", "contact", "group") and number.isdigit():
            return f"{prefix}:{int(number)}"
    elif text.isdigit():
        return f"{default_prefix}:{int(text)}"
    raise FieldError(f"bad person id {raw!r}")


def _int_id(value: Any) -> int | None:
    raw = value.get("id") if isinstance(value, dict) else value
    if raw in (None, "", 0, "0"):
        return None
    text = str(raw).split("//")[0].strip()
    if not text.lstrip("-").isdigit():
        raise FieldError(f"bad id {raw!r}")
    return int(text)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise FieldError("a checkbox value is not a number")
    try:
        number = float(str(value).replace(",", ".").replace(" ", ""))
    except ValueError as exc:
        raise FieldError(f"not a number: {value!r}") from exc
    return int(number) if number.is_integer() else number


def _checkbox(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("1", "true", "yes"):
        return True
    if str(value).strip().lower() in ("0", "false", "no", ""):
        return False
    raise FieldError(f"not a checkbox value: {value!r}")


def normalise(field: dict[str, Any], value: Any, ctx: Lookup) -> Any:
    """Canonical form of a written value; None clears the field. Raises FieldError."""
    ftype = int(field["type"])
    if ftype in READ_ONLY:
        raise FieldError("read-only field")
    if value is None or (value == "" and ftype not in (0, 2)):
        return None
    if ftype in (0, 2):
        return value if isinstance(value, str) else str(value)
    if ftype == 1:
        return _number(value)
    if ftype in (3, 5, 28):
        when = ctx.dates.parse(value) if not isinstance(value, When) else value
        return When(when.at, ftype != 3 and when.has_time)
    if ftype == 4:
        return {"time": ctx.dates.parse_time(value)}
    if ftype == 6:
        if not isinstance(value, dict) or "from" not in value or "to" not in value:
            raise FieldError("period needs from and to")
        return {"from": {"time": ctx.dates.parse_time(value["from"])},
                "to": {"time": ctx.dates.parse_time(value["to"])}}
    if ftype == 7:
        return _checkbox(value)
    if ftype == 8:
        text = str(value)
        options = field.get("enumValues") or []
        if options and text not in options:
            raise FieldError(f"{text!r} is not an option of the list")
        return text
    if ftype == 9:
        key = _int_id(value)
        if key is not None and ctx.directory_value(field.get("directoryId"), key) is None:
            raise FieldError(f"no directory entry {key}")
        return key
    if ftype in (10, 11, 12, 13):
        ref = person_ref(value, _DEFAULT_PREFIX[ftype])
        if ftype in (10, 12) and not ref.startswith("contact:") or ftype == 11 and not ref.startswith("user:"):
            raise FieldError(f"{ref} does not fit a {TYPE_NAMES[ftype]} field")
        if ctx.person_name(ref) is None:
            raise FieldError(f"{ref} not found")
        return ref
    if ftype == 14:
        refs = [person_ref(v) for v in _as_list(value)]
        missing = [r for r in refs if ctx.person_name(r) is None]
        if missing:
            raise FieldError(f"{missing[0]} not found")
        return refs
    if ftype in (15, 17, 21):
        ids = [i for i in (_int_id(v) for v in _as_list(value)) if i is not None]
        if ftype == 17 and any(ctx.task_name(i) is None for i in ids):
            raise FieldError("task not found")
        if ftype == 21 and any(not ctx.file_exists(i) for i in ids):
            raise FieldError("file not found")
        if ftype == 15 and any(ctx.directory_value(field.get("directoryId"), i) is None for i in ids):
            raise FieldError("directory entry not found")
        return ids
    if ftype in (16, 22):
        ident = _int_id(value)
        lookup = ctx.task_name if ftype == 16 else ctx.project_name
        if ident is not None and lookup(ident) is None:
            raise FieldError(f"{TYPE_NAMES[ftype].lower()} {ident} not found")
        return ident
    if ftype == 20:
        return [str(v) for v in _as_list(value)]
    return value  # Location and newer types: kept as sent


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise FieldError("a list is expected")


def render(field: dict[str, Any], value: Any, ctx: Lookup) -> Any:
    """The read shape of a canonical value (the spec's `GET` examples per type)."""
    ftype = int(field["type"])
    if value is None:
        return {0: "", 2: "", 7: False, 14: [], 15: [], 17: [], 20: [], 21: []}.get(ftype)
    if ftype == 3:
        return ctx.dates.point(value)
    if ftype in (5, 28):
        point = ctx.dates.point(value) or {}
        return {"date": point.get("date"), "time": point.get("time")}
    if ftype == 9:
        return {"id": value, "value": ctx.directory_value(field.get("directoryId"), value)}
    if ftype in (10, 11, 12, 13):
        return {"id": value, "name": ctx.person_name(value)}
    if ftype == 14:
        return [{"id": ref, "name": ctx.person_name(ref)} for ref in value]
    if ftype == 15:
        return [{"id": key, "value": ctx.directory_value(field.get("directoryId"), key)} for key in value]
    if ftype == 16:
        return {"id": value, "name": ctx.task_name(value)}
    if ftype == 17:
        return [{"id": i, "name": ctx.task_name(i)} for i in value]
    if ftype == 22:
        return {"id": value, "name": ctx.project_name(value)}
    if isinstance(value, (dict, list)):
        return _copy(value)
    return value


def as_text(field: dict[str, Any], value: Any, ctx: Lookup) -> str | list[str]:
    """How a value reads in a scenario template (`{{Задача.<field name>}}`); lists stay lists."""
    ftype = int(field["type"])
    shown = render(field, value, ctx)
    if value is None:
        return [] if isinstance(shown, list) else ""
    if ftype == 3:
        return ctx.dates.text(value, with_time=False)
    if ftype in (5, 28):
        return ctx.dates.text(value)
    if ftype == 7:
        return "Да" if value else "Нет"
    if ftype == 6:
        return f"{value['from']['time']}-{value['to']['time']}"
    if ftype == 4:
        return value["time"]
    if isinstance(shown, list):
        return [str(i.get("name") or i.get("value") or i.get("id")) if isinstance(i, dict) else str(i) for i in shown]
    if isinstance(shown, dict):
        return str(shown.get("name") or shown.get("value") or shown.get("address") or shown.get("id") or "")
    return str(shown)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

"""Value conversion by field type: what is stored, how old crm.* prints it, how crm.item prints it.

Old crm.* methods print every value as a string (or null): "1000000.00", "9", "Y". crm.item.* prints
typed values (999.9, 9, "Y"). Both read the same stored record, so one stored form (Python ints,
floats, dates, lists) and two printers keep the two APIs consistent with each other.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any

from .php import as_list
from .schema import ID_TYPES, FieldDef
from .timeutil import iso, iso_date, parse_date, parse_datetime

TRUE_OLD = {"Y", "y", "1", "true", "True", "TRUE"}
TRUE_ITEM = {"Y", "y", "true"}  # crm.item: only true/'true'/'y'/'Y' are true; 1 is false


def php_float_str(value: float) -> str:
    """PHP's string form of a float: 12.0 → "12", 12.5 → "12.5"."""
    return str(int(value)) if value == int(value) else repr(value)


def to_int(raw: Any) -> int | None:
    if raw is None or raw == "" or isinstance(raw, (dict, list)):
        return None
    if isinstance(raw, bool):
        return int(raw)
    try:
        return int(float(str(raw).strip()))
    except ValueError:
        return None


def to_float(raw: Any) -> float | None:
    if raw is None or raw == "" or isinstance(raw, (dict, list)):
        return None
    try:
        return float(str(raw).strip().replace(",", ".").replace(" ", ""))
    except ValueError:
        return None


def to_store(f: FieldDef, raw: Any, tz: timezone, currency: str, item_api: bool = False) -> Any:
    """Normalise an incoming value for storage. Multiple fields take lists (or PHP maps)."""
    if f.multiple:
        if f.type == "crm_multifield":
            return [v for v in as_list(raw) if isinstance(v, dict)]
        values = [to_store(_single(f), v, tz, currency, item_api) for v in as_list(raw)]
        return [v for v in values if v not in (None, "")]
    if isinstance(raw, list):  # a list sent to a single field: PHP would keep the first element
        raw = raw[0] if raw else None
    t = f.type
    if t in ID_TYPES:
        value = to_int(raw)
        return None if value == 0 and t not in ("integer",) else value
    if t == "double":
        return to_float(raw)
    if t == "char":
        return "Y" if (raw is True or str(raw) in TRUE_OLD) else "N"
    if t == "boolean":
        truthy = TRUE_ITEM if item_api else TRUE_OLD
        return 1 if (raw is True or str(raw) in truthy) else 0
    if t == "date":
        return parse_date(raw, tz)
    if t == "datetime":
        return parse_datetime(raw, tz)
    if raw is None:
        return None
    text = {True: "1", False: ""}.get(raw, None) if isinstance(raw, bool) else str(raw)
    if t == "money" and text and "|" not in text:
        return f"{text}|{currency}"
    return text


def _single(f: FieldDef) -> FieldDef:
    return FieldDef(f.name, f.type, uf=f.uf)


def to_old(f: FieldDef, value: Any, tz: timezone) -> Any:
    """Print a stored value the way crm.deal.get / crm.deal.list do: strings, null, "" for no date."""
    if f.multiple:
        if f.type == "crm_multifield":
            return [{k: (str(v) if v is not None else None) for k, v in item.items()} for item in value or []]
        return [to_old(_single(f), v, tz) for v in value or []]
    t = f.type
    if t == "date":
        return iso_date(value, tz)
    if t == "datetime":
        return iso(value, tz)
    if value is None:
        return None
    if t == "double":
        return php_float_str(value) if f.uf else f"{value:.2f}"
    if t == "boolean":
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def to_item(f: FieldDef, value: Any, tz: timezone) -> Any:
    """Print a stored value the way crm.item.* does: typed numbers, "Y"/"N", ISO dates or null."""
    if f.multiple:
        if f.type == "crm_multifield":
            return [{"id": to_int(i.get("ID")), "valueType": i.get("VALUE_TYPE"), "value": i.get("VALUE"),
                     "typeId": i.get("TYPE_ID")} for i in value or []]
        return [to_item(_single(f), v, tz) for v in value or []]
    t = f.type
    if t == "date":
        return iso_date(value, tz) if value else None
    if t == "datetime":
        return iso(value, tz) if value else None
    if t in ("crm_company", "crm_contact") and value is None:
        return 0
    if t == "boolean":
        return "Y" if value else "N"
    if t == "double":
        return None if value is None else float(value)
    return value


def comparable(f: FieldDef, raw: Any, tz: timezone) -> Any:
    """Turn a filter value into something comparable with stored values of field `f`."""
    t = f.type
    if t in ID_TYPES:
        return to_int(raw)
    if t == "double":
        return to_float(raw)
    if t == "boolean":
        return 1 if (raw is True or str(raw) in TRUE_OLD) else 0
    if t == "date":
        return parse_date(raw, tz)
    if t == "datetime":
        return parse_datetime(raw, tz)
    if t == "char" and isinstance(raw, bool):
        return "Y" if raw else "N"
    return None if raw is None else str(raw)


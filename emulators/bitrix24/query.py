"""List-method semantics shared by crm.*.list and crm.item.list: filter prefixes, order, paging.

Filters follow the documented key prefixes (`>=`, `>`, `<=`, `<`, `@`, `!@`, `%`, `=%`, `%=`, `=`,
`!=`, `!`). String matching is case-insensitive, as MySQL collations make it on the real portal.
Paging is fixed at 50 and page-aligned: `start=73` returns rows 50..99 with `next=100`;
a negative `start` (the documented `-1`) skips counting and returns neither `next` nor a real total.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timezone
from typing import Any, Callable

from .php import as_list
from .schema import FieldDef
from .values import comparable, to_int

PAGE = 50
_OPS = (">=", "<=", "!@", "!=", "=%", "%=", "!%", ">", "<", "@", "%", "=", "!")
_NO_LIKE = {"crm_status", "crm_company", "crm_contact"}
_NEGATIVE = {"!", "!=", "!@", "!%"}

Resolver = Callable[[str], "tuple[FieldDef, str] | None"]


def split_key(key: str) -> tuple[str, str]:
    """"`>=DATE_MODIFY`" → (">=", "DATE_MODIFY"); no prefix means "="."""
    for op in _OPS:
        if key.startswith(op):
            return op, key[len(op):]
    return "=", key


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _match_one(op: str, stored: Any, raw: Any, f: FieldDef, tz: timezone) -> bool:
    """One stored (single) value against one condition with a positive operator."""
    if op in ("=", "@"):
        wanted = as_list(raw) if (op == "@" or isinstance(raw, (list, dict))) else [raw]
        if op == "=" and len(wanted) == 1 and _empty(wanted[0]):
            return _empty(stored)
        return any(_norm(stored) == _norm(comparable(f, w, tz)) for w in wanted if not _empty(w))
    if op in ("%", "=%", "%="):
        if stored is None:
            return False
        text = str(stored)
        if op == "%":
            return str(raw).lower() in text.lower()
        return bool(_like(str(raw)).match(text))
    if stored is None:
        return False
    other = comparable(f, raw, tz)
    if other is None:
        return False
    stored, other = _norm(stored), _norm(other)
    try:
        return {">": stored > other, ">=": stored >= other, "<": stored < other, "<=": stored <= other}[op]
    except TypeError:
        return False


def _condition(op: str, f: FieldDef, key: str, raw: Any, tz: timezone) -> Callable[[dict], bool]:
    positive = {"!": "=", "!=": "=", "!@": "@", "!%": "%"}.get(op, op)
    if positive in ("%", "=%", "%=") and f.type in _NO_LIKE:
        positive = "="  # LIKE does not apply to status/company/contact fields

    def check(record: dict[str, Any]) -> bool:
        stored = record.get(key)
        values = stored if isinstance(stored, list) else [stored]
        if positive == "=" and not isinstance(raw, (list, dict)) and _empty(raw):
            hit = all(_empty(v) for v in values) if values else True
        else:
            hit = any(_match_one(positive, v, raw, f, tz) for v in values)
        return not hit if op in _NEGATIVE else hit

    return check


def build_filter(flt: dict[str, Any], resolve: Resolver, tz: timezone) -> Callable[[dict], bool]:
    """Compile a filter map into a predicate over stored records. Unknown fields are ignored."""
    checks = []
    for key, raw in flt.items():
        op, name = split_key(str(key))
        found = resolve(name)
        if found is None:
            continue
        checks.append(_condition(op, found[0], found[1], raw, tz))
    return lambda record: all(c(record) for c in checks)


def sort_records(rows: list[dict], order: dict[str, Any], resolve: Resolver) -> list[dict]:
    """Stable multi-key sort; NULLs first when ascending (MySQL), strings case-insensitive."""
    keys = []
    for name, direction in order.items():
        found = resolve(str(name))
        if found is not None:
            keys.append((found[1], str(direction).upper() == "DESC"))
    for key, desc in reversed(keys):
        def sort_key(record: dict, key: str = key) -> tuple:
            value = record.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            return (value is not None, _norm(value) if value is not None else 0)
        rows = sorted(rows, key=sort_key, reverse=desc)
    return rows


@dataclass
class Page:
    """One page of a list answer; `total`/`next` are None when they must be left out."""

    rows: list[dict]
    total: int | None
    next: int | None


def paginate(rows: list[dict], start: Any, engine: bool = False) -> Page:
    """Old CRM paging (`next` = page*50, total 0 for start<0) or Engine paging (crm.item.list)."""
    start_value = to_int(start) or 0
    if start_value < 0:
        return Page(rows[:PAGE], None if engine else 0, None)
    page_no = start_value // PAGE + 1
    offset = (page_no - 1) * PAGE
    chunk = rows[offset:offset + PAGE]
    total = len(rows)
    nxt = (offset + len(chunk)) if engine else page_no * PAGE
    return Page(chunk, total, nxt if nxt < total else None)

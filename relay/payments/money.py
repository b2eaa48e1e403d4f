"""Exact money for payments: integer kopecks inside, exact ruble strings outside (never floats)."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_SPACES = re.compile(r"[\s\u00a0\u202f']+")


def to_kopecks(value: Any) -> int:
    """A CRM amount as kopecks: `1000`, `1000.5`, `"1000.00"`, `"1 000,50"`, `"1000|RUB"` (money
    fields); empty or unreadable values count as 0, since a deal without an amount expects nothing."""
    if value is None or isinstance(value, bool):
        return 0
    text = _SPACES.sub("", str(value)).split("|", 1)[0].replace(",", ".")
    if not text:
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return 0
    if not amount.is_finite():
        return 0
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def rub(kopecks: int) -> str:
    """`4850075` → `"48500.75"`: exact, for templates, fields and reports."""
    sign = "-" if kopecks < 0 else ""
    whole, cents = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{cents:02d}"


def pretty(kopecks: int) -> str:
    """`4850075` → `"48 500.75"`: for people (lists, reports)."""
    sign = "-" if kopecks < 0 else ""
    whole, cents = divmod(abs(kopecks), 100)
    return f"{sign}{whole:,}.{cents:02d}".replace(",", "\u00a0")

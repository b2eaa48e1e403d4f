"""What a report reads: the store's snapshots of CRM entities, joined into the deal tree and holdings.

The relay keeps the last state of every entity it read (deals, companies, items); a report is a
question over those, so it costs no portal request and sees parent and child deals together, which
the CRM's own reports cannot. It sees what the relay has seen: entities never changed since the
relay was installed are not in the store until their first event (or the reconciliation sweep).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from relay.changes import canonical
from relay.store import Store
from relay.store.schema import Snapshot

MAX_DEPTH = 20


def plain_id(value: Any) -> str:
    """`CO_5`, `D_12`, `["5"]`, 5 → "5"; empty → ""."""
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value or "").strip()
    return text.rsplit("_", 1)[-1] if "_" in text else text


def number(value: Any) -> float | None:
    """`1000.00`, `180000|RUB`, 4.5 → a float; empty or not a number → None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value if value is not None else "").split("|", 1)[0].strip().replace(" ", "").replace(",", ".")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def day(value: Any) -> str:
    """The calendar day of a date or datetime field as YYYY-MM-DD (date fields read back as midnight UTC); "" if none."""
    text = canonical(value) if value not in (None, "") else ""
    return text[:10] if len(text) >= 10 and text[4:5] == "-" and text[7:8] == "-" else ""


def days(start: Any, end: Any) -> int | None:
    """Whole days from `start` to `end` (negative if end is earlier); None if either is missing."""
    a, b = day(start), day(end)
    return (date.fromisoformat(b) - date.fromisoformat(a)).days if a and b else None


class Tree:
    """Entities by type and id, children by parent, heads by company."""

    def __init__(self, store: Store, parent_link_field: str, head_field: str) -> None:
        self.by_type: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        with store.session() as s:
            for key, data in s.execute(select(Snapshot.entity_key, Snapshot.data).where(Snapshot.entity_key.like("bitrix24:%"))):
                parts = key.split(":")
                kind = parts[1] if len(parts) == 3 else f"{parts[1]}:{parts[2]}"
                self.by_type[kind][parts[-1]] = dict(data or {})
        self.parent_link_field, self.head_field = parent_link_field, head_field
        self._children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for deal in self.by_type["deal"].values():
            parent = plain_id(deal.get(parent_link_field))
            if parent:
                self._children[parent].append(deal)

    def rows(self, source: str) -> list[dict[str, Any]]:
        return [self.by_type[source][i] for i in sorted(self.by_type[source], key=lambda i: (len(i), i))]

    def deal(self, deal_id: Any) -> dict[str, Any] | None:
        return self.by_type["deal"].get(plain_id(deal_id))

    def company(self, company_id: Any) -> dict[str, Any] | None:
        return self.by_type["company"].get(plain_id(company_id))

    def parent(self, deal: dict[str, Any]) -> dict[str, Any] | None:
        return self.deal(deal.get(self.parent_link_field))

    def children(self, deal: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted(self._children.get(str(deal.get("ID", "")), []), key=lambda d: int(d.get("ID") or 0))

    def holding(self, company_id: Any) -> dict[str, Any] | None:
        """The top company above `company_id` (itself if it has no head); None if the store has not seen it."""
        current = self.company(company_id)
        seen: set[str] = set()
        while current is not None and len(seen) < MAX_DEPTH:
            seen.add(str(current.get("ID")))
            head = self.company(current.get(self.head_field))
            if head is None or str(head.get("ID")) in seen:
                return current
            current = head
        return current

    def context(self, source: str, row: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """What a report's expressions see for one row."""
        entity = source.split(":", 1)[0]
        context = {"row": row, "params": params,
                   "parent": self.parent(row) if entity == "deal" else None,
                   "children": self.children(row) if entity == "deal" else [],
                   "company": self.company(row.get("COMPANY_ID") or row.get("companyId")) or {},
                   "company_of": self.company, "deal_of": self.deal, "holding": self.holding,
                   "number": number, "day": day, "days": days}
        context[entity] = row  # `deal.TITLE`, or for a company report `company.TITLE` is the row itself
        return context

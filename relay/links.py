"""Durable associations between outside ids (see store.schema.Link)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from relay.store import Store, utcnow
from relay.store.schema import Link


class Links:
    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, kind: str, key: str, value: str, data: dict[str, Any] | None = None) -> None:
        with self.store.session() as s:
            s.merge(Link(kind=kind, key=key, value=value, data=data, updated_at=utcnow()))

    def get(self, kind: str, key: str) -> str | None:
        with self.store.session() as s:
            row = s.get(Link, (kind, key))
            return row.value if row else None

    def keys_for(self, kind: str, value: str) -> list[str]:
        """Reverse look-up: every key linked to `value` (e.g. the chats bound to one task)."""
        with self.store.session() as s:
            return list(s.scalars(select(Link.key).where(Link.kind == kind, Link.value == value)))

    def delete(self, kind: str, key: str) -> None:
        with self.store.session() as s:
            row = s.get(Link, (kind, key))
            if row is not None:
                s.delete(row)

"""Row sources a connector adds to the reports, beside the store's CRM snapshots.

A report's `source:` is a CRM entity (`deal`, `company`, `contact`, `item:<entityTypeId>`, read from
the store) or a name a configured connector provides, `<system>:<what>` (e.g. `planfix:time`: tracked
time read from Planfix). The connector registers its source when it is built, under the store of its
relay, so `app.py report`, `GET /reports/...` and the connector's own jobs all find it, and two relays
in one process (tests) never see each other's sources.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from relay.store import Store

BUILTIN = re.compile(r"^(deal|company|contact|item:\d+)$")


class RowSource(Protocol):
    def rows(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every row of the report before `where`, for these parameters (a connector may read its system)."""

    def context(self, row: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """What the report's expressions see for one row (at least `row` and `params`)."""


_provided: "WeakKeyDictionary[Store, dict[str, RowSource]]" = WeakKeyDictionary()
_lock = threading.Lock()


def provide(store: Store, name: str, source: RowSource) -> None:
    with _lock:
        _provided.setdefault(store, {})[name] = source


def withdraw(store: Store, name: str) -> None:
    with _lock:
        _provided.get(store, {}).pop(name, None)


def find(store: Store, name: str) -> RowSource | None:
    """The connector's source of that name, or None for the CRM entities (and for names nobody provides)."""
    with _lock:
        return _provided.get(store, {}).get(name)


def is_builtin(name: str) -> bool:
    return bool(BUILTIN.match(name))

"""Limits kept in the store, so every process (and host) counts against the same numbers.

`FailureLimit` (admin logins): each attempt holds a row in `leases` that runs out after the
window; while a key holds its limit of rows, the next attempt is refused before the password is
even checked. The row is written *before* the check (and removed again on success), so a burst of
parallel guesses cannot slip past the limit while the first ones are still being hashed. One
transaction per attempt, serialized (SQLite's single writer; an advisory lock on PostgreSQL),
because counting then inserting is not atomic on its own.

`SharedBucket` (outbound request budgets, e.g. a Bitrix24 portal's leaky bucket): one row in
`cursors` holds the level every process draws from.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from relay.store import Store, utcnow
from relay.store.schema import Cursor, Lease

LOCK_ID = 727020  # PostgreSQL advisory lock of the failure limits


@dataclass(frozen=True)
class Attempt:
    """The outcome of `FailureLimit.attempt`: allowed (with the rows it holds) or refused."""

    allowed: bool
    retry_after: int = 0  # seconds until a slot frees, when refused
    blocked_by: str = ""  # the key that is at its limit, when refused
    token: str = ""  # identifies this attempt's rows, to release them after a success


class FailureLimit:
    """At most `limits[scope]` attempts per key within `window`; `scope` is e.g. "addr" or "user"."""

    def __init__(self, store: Store, name: str, limits: dict[str, int], window: timedelta) -> None:
        self.store = store
        self.prefix = f"{name}:"
        self.limits = limits
        self.window = window

    def _slot(self, scope: str, key: str) -> str:
        # Hashed: any text (a username with % or _) makes a safe LIKE prefix of a fixed length.
        return f"{self.prefix}{scope}:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:24]}:"

    def attempt(self, keys: dict[str, str], now: datetime | None = None) -> Attempt:
        """Hold one slot per (scope, key), unless a key is already at its limit."""
        now = now or utcnow()
        token = uuid.uuid4().hex[:16]
        with self.store.session() as s:
            if self.store.is_postgres:
                s.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_ID})"))
            s.execute(delete(Lease).where(Lease.name.startswith(self.prefix, autoescape=True), Lease.expires_at <= now))
            for scope, key in keys.items():
                slot = self._slot(scope, key)
                held = sorted(s.scalars(select(Lease.expires_at).where(Lease.name.startswith(slot, autoescape=True))))
                over = len(held) - self.limits[scope] + 1
                if over > 0:
                    # The attempt may go once enough of the oldest failures have run out.
                    wait = (held[over - 1] - now).total_seconds()
                    return Attempt(False, retry_after=max(1, math.ceil(wait)), blocked_by=scope)
            for scope, key in keys.items():
                s.add(Lease(name=self._slot(scope, key) + token, holder=f"{scope}:{key}"[:128], expires_at=now + self.window))
        return Attempt(True, token=token)

    def succeeded(self, keys: dict[str, str]) -> None:
        """A success is no failure: drop this attempt's slots and the earlier failures of these keys."""
        with self.store.session() as s:
            for scope, key in keys.items():
                s.execute(delete(Lease).where(Lease.name.startswith(self._slot(scope, key), autoescape=True)))

    def held(self, scope: str, key: str, now: datetime | None = None) -> int:
        """How many unexpired failures this key holds (for tests and the admin's curiosity)."""
        now = now or utcnow()
        with self.store.session() as s:
            return len(s.scalars(select(Lease.name).where(Lease.name.startswith(self._slot(scope, key), autoescape=True),
                                                          Lease.expires_at > now)).all())


class SharedBucket:
    """A leaky bucket kept in the store (a `cursors` row), so every process draws from one level:
    N workers calling one portal together stay within the portal's limit, not N times it.

    Each request takes its place in one short transaction and is told how long to wait before it
    may go: the level counts requests already promised a moment, and drains at `rate` per second.
    """

    def __init__(self, store: Store, name: str, rate: float, burst: float) -> None:
        self.store, self.name, self.rate = store, name, rate
        # A request reaches the portal a moment after its place was taken, later than the model
        # assumes; headroom keeps that moment's worth of leak from tipping the real bucket over.
        self.burst = max(1.0, burst - max(1.0, 0.1 * burst))

    def reserve(self, now: float | None = None) -> float:
        """One request's place in the bucket; returns the seconds to wait before sending it.
        `now` is for tests; otherwise the time is read once the row is locked."""
        for _ in range(3):  # two processes may create the row at once; the loser reads it next time
            try:
                return self._reserve(now)
            except IntegrityError:
                continue
        return self._reserve(now)

    def _reserve(self, given: float | None) -> float:
        with self.store.session() as s:
            row = s.get(Cursor, self.name, with_for_update=self.store.is_postgres)
            # Read the clock under the lock: a time taken before waiting for it would be older than
            # the one the previous holder saved, and drain the level by time that never passed.
            now = given if given is not None else time.time()
            state = json.loads(row.value) if row is not None else {"level": 0.0, "at": now}
            now = max(now, float(state["at"]))
            level = max(0.0, float(state["level"]) - (now - float(state["at"])) * self.rate)
            wait = max(0.0, (level + 1 - self.burst) / self.rate)
            value = json.dumps({"level": level + 1, "at": now})
            if row is None:
                s.add(Cursor(name=self.name, value=value, updated_at=utcnow()))
            else:
                row.value, row.updated_at = value, utcnow()
        return wait

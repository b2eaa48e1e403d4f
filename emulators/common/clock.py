"""Injectable time for emulators: real wall clock in production, a hand-moved clock in tests.

Rate limits, token lifetimes and statement expiry all depend on "now"; tests must be able to
jump a minute ahead instead of sleeping, so every emulator asks a `Clock` rather than `time`.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

MSK = timezone(timedelta(hours=3), "MSK")
"""Moscow time: banks book and number documents by Moscow dates (no DST since 2014)."""


class Clock(Protocol):
    """Anything that tells the current unix time in seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to; thread-safe because servers read it from worker threads."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            self._now = float(when)


def utc_datetime(clock: Clock) -> datetime:
    """`clock.now()` as an aware UTC datetime."""
    return datetime.fromtimestamp(clock.now(), tz=timezone.utc)


def msk_datetime(clock: Clock) -> datetime:
    """`clock.now()` as an aware Moscow datetime."""
    return datetime.fromtimestamp(clock.now(), tz=MSK)


def steer(clock: Clock, body: dict) -> dict:
    """Apply a `/_emulator/clock` request: `{"advance": s}` or `{"set": unix}`; only a ManualClock moves."""
    if not isinstance(clock, ManualClock):
        if body:
            raise ValueError("this emulator runs on the system clock; start it with a ManualClock to steer time")
        return {"now": clock.now(), "manual": False}
    if "advance" in body:
        clock.advance(float(body["advance"]))
    if "set" in body:
        clock.set(float(body["set"]))
    return {"now": clock.now(), "manual": True}

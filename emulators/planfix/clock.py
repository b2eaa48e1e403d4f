"""Injectable time for the Planfix emulator.

The 1 request/second limit, the daily budget, deferred (202) task updates and the scenario
retry schedule (15 min / 30 min / 1 h / 1 h, 3-minute pause after a failure) all read this
clock, so a test can step over hours instantly with a `ManualClock` instead of sleeping.
"""
from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current unix time in seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The real wall clock (production and manual runs)."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to; thread-safe because request threads and the
    scenario sender read it concurrently."""

    def __init__(self, start: float = 1_714_557_600.0) -> None:  # 2024-05-01 10:00 UTC
        self._now = float(start)
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

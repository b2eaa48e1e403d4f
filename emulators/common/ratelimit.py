"""Sliding-window request limiter shared by the bank and Fintablo emulators.

Fintablo allows 300 requests a minute, T-Bank 20 a second; both are "at most N in any window of
W seconds" per caller. The clock is injected so a test can exhaust the limit, advance a
ManualClock by W seconds and see the limit lift, without sleeping.
"""
from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from emulators.common.clock import Clock, SystemClock


@dataclass(frozen=True)
class Decision:
    """Outcome of one `hit`: allowed or not, how many remain, seconds until the oldest slot frees."""

    allowed: bool
    remaining: int
    retry_after: float


class SlidingWindowLimiter:
    """At most `limit` accepted hits per key in any `window` seconds; refused hits are not counted."""

    def __init__(self, limit: int, window: float, clock: Clock | None = None) -> None:
        self.limit = int(limit)
        self.window = float(window)
        self.clock = clock or SystemClock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def configure(self, limit: int | None = None, window: float | None = None) -> None:
        """Change the limit at run time (the knob endpoints call this)."""
        with self._lock:
            if limit is not None:
                self.limit = int(limit)
            if window is not None:
                self.window = float(window)

    def hit(self, key: str = "") -> Decision:
        """Record one request for `key` if the window has room."""
        now = self.clock.now()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if self.limit <= 0 or len(hits) >= self.limit:
                retry = (hits[0] + self.window - now) if hits else self.window
                return Decision(False, 0, max(retry, 0.0))
            hits.append(now)
            return Decision(True, self.limit - len(hits), 0.0)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

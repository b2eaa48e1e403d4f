"""The account's request budget: 1 request/second and a daily plan quota.

Planfix documents both limits and the `X-RateLimit-Remaining` header, and code 22 for an
exhausted daily budget; what a 1 req/s breach answers is undocumented. The one public client
that handles it expects HTTP 403 with `code` 22 and a `timeToReset`, so that is the default
(status configurable). Refused requests are not counted, so a client that backs off recovers.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

from .clock import Clock
from .errors import ApiError
from .knobs import Knobs


class RateLimiter:
    """Per-account limiter; reads the current `Knobs` on every hit so a switch takes effect at once."""

    def __init__(self, clock: Clock, knobs: Callable[[], Knobs], utc_offset_hours: float = 0.0) -> None:
        self.clock = clock
        self.knobs = knobs
        self._tz = timezone(timedelta(hours=utc_offset_hours))
        self._lock = threading.Lock()
        self._last: float | None = None
        self._day = ""
        self._used = 0

    def _today(self, now: float) -> str:
        return datetime.fromtimestamp(now, tz=self._tz).strftime("%Y-%m-%d")

    def hit(self) -> None:
        """Account one API request, or raise the code-22 error if over a limit."""
        now = self.clock.now()
        knobs = self.knobs()
        with self._lock:
            day = self._today(now)
            if day != self._day:
                self._day, self._used = day, 0
            if knobs.enforce_daily and self._used >= knobs.daily_limit:
                midnight = datetime.fromtimestamp(now, tz=self._tz).replace(hour=0, minute=0, second=0)
                tomorrow = midnight + timedelta(days=1)
                raise ApiError(knobs.limit_status, 22, "Daily request limit exceeded",
                               timeToReset=int((tomorrow.timestamp() - now) * 1000))
            if knobs.rate_limit and self._last is not None and now - self._last < knobs.min_interval:
                wait_ms = max(1, int(round((self._last + knobs.min_interval - now) * 1000)))
                raise ApiError(knobs.limit_status, 22, "Request limit exceeded", timeToReset=wait_ms)
            self._last = now
            self._used += 1

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.knobs().daily_limit - self._used)

    def reset(self) -> None:
        with self._lock:
            self._last, self._day, self._used = None, "", 0

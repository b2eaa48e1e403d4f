"""Bitrix24's two cloud limits: the per-portal leaky bucket and the per-method operating-time budget.

Leaky bucket: each HTTP request (a `batch` counts once) adds 1; the level drains at `rate` per
second; a request that would lift it above `burst` is refused with 503 QUERY_LIMIT_EXCEEDED.
Standard plans: 50 / 2 per second; Enterprise: 250 / 5 per second.

Operating time: every method accumulates the seconds it ran over a sliding 10 minutes kept as ten
one-minute buckets; once the sum is over the limit (480 s) the NEXT call of that method gets
429 OPERATION_TIME_LIMIT until old buckets fall out. Real calls here take microseconds, so tests
give a method a synthetic cost per call. The clock is injectable so tests never sleep.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

PLANS = {"standard": (50.0, 2.0), "enterprise": (250.0, 5.0)}


class OperatingSettings(BaseModel):
    """Per-method operating-time budget. Off by default: `time.operating` then stays 0."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    limit_seconds: float = Field(480.0, gt=0)
    window_seconds: float = Field(600.0, gt=0)
    default_cost: float | None = Field(None, ge=0, description="seconds charged per call; None = measured")
    costs: dict[str, float] = Field(default_factory=dict, description="method → seconds charged per call")


class LimitSettings(BaseModel):
    """Everything `/_emulator/limits` can switch."""

    model_config = ConfigDict(extra="forbid")

    rate_limit: bool = True
    plan: Literal["standard", "enterprise", "custom"] = "standard"
    burst: float = Field(50.0, gt=0)
    rate: float = Field(2.0, gt=0)
    per_ip: bool = Field(True, description="one bucket per source IP, as the cloud does")
    blocked: bool = Field(False, description="answer every call with 503 OVERLOAD_LIMIT (manual block)")
    operating: OperatingSettings = Field(default_factory=OperatingSettings)

    def with_plan(self) -> "LimitSettings":
        """Apply a named plan's numbers (custom keeps burst/rate as given)."""
        if self.plan in PLANS:
            burst, rate = PLANS[self.plan]
            return self.model_copy(update={"burst": burst, "rate": rate})
        return self


class Limits:
    """State of both limits; thread-safe; `clock()` returns unix seconds."""

    def __init__(self, settings: LimitSettings | None = None, clock: Callable[[], float] | None = None) -> None:
        import time
        self.clock = clock or time.time
        self._lock = threading.Lock()
        self.configure(settings or LimitSettings())

    def configure(self, settings: LimitSettings) -> None:
        with self._lock:
            self.settings = settings.with_plan()
            self._levels: dict[str, tuple[float, float]] = {}
            self._spent: dict[str, dict[int, float]] = defaultdict(dict)

    def reset(self) -> None:
        self.configure(self.settings)

    # leaky bucket ----------------------------------------------------------------------------
    def admit(self, source: str) -> bool:
        """Count one HTTP request; False means refuse it with QUERY_LIMIT_EXCEEDED."""
        s = self.settings
        if not s.rate_limit:
            return True
        key = source if s.per_ip else "portal"
        with self._lock:
            now = self.clock()
            level, last = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - last) * s.rate)
            if level + 1 > s.burst + 1e-9:
                self._levels[key] = (level, now)
                return False
            self._levels[key] = (level + 1, now)
            return True

    def level(self, source: str = "127.0.0.1") -> float:
        with self._lock:
            key = source if self.settings.per_ip else "portal"
            level, last = self._levels.get(key, (0.0, self.clock()))
            return max(0.0, level - (self.clock() - last) * self.settings.rate)

    # operating time --------------------------------------------------------------------------
    def _window(self, method: str, now: float) -> dict[int, float]:
        op = self.settings.operating
        minutes = self._spent[method]
        oldest_allowed = int((now - op.window_seconds) // 60)
        for minute in [m for m in minutes if m <= oldest_allowed]:
            del minutes[minute]
        return minutes

    def blocked(self, method: str) -> bool:
        """True if `method` already spent more than its budget in the window."""
        op = self.settings.operating
        if not op.enabled:
            return False
        with self._lock:
            return sum(self._window(method, self.clock()).values()) > op.limit_seconds

    def charge(self, method: str, measured: float) -> dict[str, float]:
        """Record one call; returns the `time` keys to add: operating (+ operating_reset_at)."""
        op = self.settings.operating
        if not op.enabled:
            return {"operating": 0}
        cost = op.costs.get(method, op.default_cost if op.default_cost is not None else measured)
        with self._lock:
            now = self.clock()
            minutes = self._window(method, now)
            minute = int(now // 60)
            minutes[minute] = minutes.get(minute, 0.0) + cost
            total = sum(minutes.values())
            reset_at = int(min(minutes) * 60 + op.window_seconds)
        return {"operating_reset_at": reset_at, "operating": total}

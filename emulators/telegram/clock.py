"""An injectable wall clock.

Message dates, callback-query expiry, update retention and the flood-control windows all read
this clock instead of `time.time()`, so a test can freeze time and step over a 60-second
rate window instantly instead of sleeping through it.
"""
from __future__ import annotations

import threading
import time


class Clock:
    """Real time by default; `freeze()` pins it, `advance()` moves it (frozen or not)."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen_at: float | None = start
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else time.time()
            return base + self._offset

    def unix(self) -> int:
        """Whole seconds, as Telegram's `date` fields carry."""
        return int(self.now())

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock at `at` (default: now); later `advance` calls still move it."""
        current = self.now() if at is None else at
        with self._lock:
            self._frozen_at = current
            self._offset = 0.0

    def unfreeze(self) -> None:
        current = self.now()
        with self._lock:
            self._frozen_at = None
            self._offset = current - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def describe(self) -> dict[str, object]:
        return {"now": self.now(), "frozen": self.frozen}

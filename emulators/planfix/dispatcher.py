"""The account's outgoing HTTP-request queue, with Planfix's documented delivery rules.

From the help page "HTTP-запросы": requests leave the account one at a time (the next waits for
the previous answer); any status other than 200 is a failure and is retried 4 more times, after
15 min, +30 min, +1 h, +1 h (unless the request has retries off); after a failed or missing
answer no request leaves the account for 3 minutes. Waits are read from the injected clock, so
a test moves a `ManualClock` instead of sleeping; the schedule itself is a knob.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import requests

from .clock import Clock
from .knobs import Knobs


@dataclass(eq=False)  # identity semantics: two identical requests are still two deliveries
class Outgoing:
    """One rendered scenario request and every attempt to deliver it."""

    rule: str
    event: str
    task: int | None
    method: str
    url: str
    headers: dict[str, str]
    body: str
    retries: bool = True
    unresolved: list[str] = field(default_factory=list)
    id: int = 0
    state: str = "queued"  # queued -> sending -> delivered | failed
    due: float = 0.0
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


class Dispatcher:
    """A single worker thread draining a due-time-ordered queue, one request in flight at most."""

    def __init__(self, clock: Clock, knobs: Callable[[], Knobs]) -> None:
        self.clock = clock
        self.knobs = knobs
        self._cond = threading.Condition()
        self._items: list[Outgoing] = []
        self._ids = itertools.count(1)
        self._paused_until = 0.0
        self._in_flight = 0
        self.max_in_flight = 0
        self._stop = False
        self._worker = threading.Thread(target=self._run, name="planfix-scenarios", daemon=True)
        self._worker.start()

    def enqueue(self, item: Outgoing) -> int:
        with self._cond:
            item.id = next(self._ids)
            item.due = self.clock.now()
            self._items.append(item)
            self._cond.notify_all()
        return item.id

    def wake(self) -> None:
        """Re-check due times now (the control endpoint calls this after moving the clock)."""
        with self._cond:
            self._cond.notify_all()

    def _next(self) -> Outgoing | None:
        now = self.clock.now()
        if now < self._paused_until:
            return None
        ready = [i for i in self._items if i.state == "queued" and i.due <= now]
        return min(ready, key=lambda i: (i.due, i.id)) if ready else None

    def _run(self) -> None:
        while True:
            with self._cond:
                item = self._next()
                while item is None and not self._stop:
                    # Real-time poll as well as notify: a ManualClock can be moved from anywhere.
                    self._cond.wait(timeout=0.05)
                    item = self._next()
                if self._stop:
                    return
                item.state = "sending"
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
            record = self._attempt(item)
            with self._cond:
                self._in_flight -= 1
                self._settle(item, record)
                self._cond.notify_all()

    def _attempt(self, item: Outgoing) -> dict[str, Any]:
        knobs = self.knobs()
        record: dict[str, Any] = {"n": len(item.attempts) + 1, "at": _iso(self.clock.now())}
        try:
            answer = requests.request(item.method, item.url, headers=item.headers, timeout=knobs.hook_timeout,
                                      data=item.body.encode() if item.body and item.method != "GET" else None,
                                      allow_redirects=False)
            record["status"] = answer.status_code
            record["response"] = answer.text[:500]
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
        return record

    def _settle(self, item: Outgoing, record: dict[str, Any]) -> None:
        knobs = self.knobs()
        now = self.clock.now()
        item.attempts.append(record)
        if item not in self._items:
            return  # dropped by a reset while in flight: it must not pause the fresh queue
        if record.get("status") == 200:
            item.state = "delivered"
            return
        self._paused_until = now + knobs.failure_pause
        done = len(item.attempts) - 1
        if item.retries and done < len(knobs.retry_delays):
            item.state, item.due = "queued", now + knobs.retry_delays[done]
        else:
            item.state = "failed"

    # -- observation & control -------------------------------------------------------------
    def log(self) -> list[dict[str, Any]]:
        with self._cond:
            out = []
            for item in sorted(self._items, key=lambda i: i.id):
                row = asdict(item)
                row["next_attempt_at"] = _iso(item.due) if item.state == "queued" else None
                row.pop("due")
                out.append(row)
            return out

    def status(self) -> dict[str, Any]:
        with self._cond:
            now = self.clock.now()
            return {"queued": sum(i.state == "queued" for i in self._items), "in_flight": self._in_flight,
                    "max_in_flight": self.max_in_flight,
                    "paused_for": max(0.0, self._paused_until - now)}

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is due or sending (test helper; retries scheduled later don't count)."""
        import time

        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_flight or self._next() is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.05))
            return True

    def reset(self) -> None:
        with self._cond:
            self._items.clear()
            self._paused_until = 0.0
            self.max_in_flight = self._in_flight

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._worker.join(timeout=5)

"""Outgoing events: POSTs to registered handlers, asynchronous, never retried, optionally misbehaving.

Bitrix24 sends an event from a background queue after the change that caused it, form-encoded
(`event`, `event_handler_id`, `data[...]`, `ts`, `auth[...]`), with only the entity id in `data`.
A handler that fails or times out loses the event. Real deliveries also arrive late, twice, out of
order or not at all; the knobs here (delay, jitter, drop, duplicate, reorder, pause, a script for
the next N events) make those cases reproducible in tests.
"""
from __future__ import annotations

import heapq
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import requests
from pydantic import BaseModel, ConfigDict, Field

from .php import build_query

Fate = Literal["ok", "drop", "duplicate"]


class DeliverySettings(BaseModel):
    """Knobs for `/_emulator/events/settings`. Rates are per event; the script wins over rates."""

    model_config = ConfigDict(extra="forbid")

    delay_seconds: float = Field(0.0, ge=0, description="every delivery waits this long after the change")
    jitter_seconds: float = Field(0.0, ge=0, description="plus a random 0..jitter, which also reorders")
    drop_rate: float = Field(0.0, ge=0, le=1)
    duplicate_rate: float = Field(0.0, ge=0, le=1)
    reorder_window: int = Field(0, ge=0, description="hold this many events, then send them shuffled")
    reorder_mode: Literal["shuffle", "reverse"] = "shuffle"
    reorder_max_wait_seconds: float = Field(2.0, ge=0, description="send a partial window after this long")
    paused: bool = Field(False, description="hold everything until /_emulator/events/flush")
    timeout_seconds: float = Field(5.0, gt=0, description="how long one POST may take")
    seed: int | None = None
    script: list[Fate] = Field(default_factory=list, description="fates for the next events, in order")


@dataclass
class Handler:
    """One subscription: event code (upper case) → URL, with the token sent as auth[application_token]."""

    id: int
    event: str
    url: str
    application_token: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "url": self.url, "application_token": self.application_token}


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    handler: Handler = field(compare=False)
    event: str = field(compare=False)
    body: str = field(compare=False)
    duplicate: bool = field(compare=False, default=False)
    queued_at: float = field(compare=False, default=0.0)


class EventDispatcher:
    """Queue + one worker thread. `emit` never blocks on the network."""

    def __init__(self, post: Callable[..., Any] | None = None) -> None:
        self._post = post or requests.post
        self._cv = threading.Condition()
        self._heap: list[_Delivery] = []
        self._held: list[_Delivery] = []
        self._held_since: float | None = None
        self._in_flight = 0
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.log: list[dict[str, Any]] = []
        self.configure(DeliverySettings())

    def configure(self, settings: DeliverySettings) -> None:
        with self._cv:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._script: deque[str] = deque(settings.script)
            self._cv.notify_all()

    def clear(self) -> None:
        """Forget queued events and the log (reset)."""
        with self._cv:
            self._heap.clear()
            self._held.clear()
            self._held_since = None
            self.log.clear()

    # producing -------------------------------------------------------------------------------
    def emit(self, handler: Handler, event: str, body: str) -> None:
        """Queue one event for one handler, deciding now whether it is dropped or doubled."""
        with self._cv:
            fate = self._fate()
            self._seq += 1
            now = time.monotonic()
            if fate == "drop":
                self.log.append(self._entry(self._seq, handler, event, body, fate="dropped"))
                return
            copies = 2 if fate == "duplicate" else 1
            for n in range(copies):
                if n:
                    self._seq += 1
                d = _Delivery(0.0, self._seq, handler, event, body, duplicate=bool(n), queued_at=now)
                if self.settings.paused or self.settings.reorder_window:
                    if not self._held:
                        self._held_since = now
                    self._held.append(d)
                else:
                    self._schedule(d, now)
            self._release_window(force=False)
            self._ensure_thread()
            self._cv.notify_all()

    def _fate(self) -> str:
        s = self.settings
        if self._script:
            return self._script.popleft()
        roll = self._random.random()
        if roll < s.drop_rate:
            return "drop"
        if roll < s.drop_rate + s.duplicate_rate:
            return "duplicate"
        return "ok"

    def _schedule(self, d: _Delivery, now: float) -> None:
        s = self.settings
        d.due = now + s.delay_seconds + (self._random.uniform(0, s.jitter_seconds) if s.jitter_seconds else 0)
        heapq.heappush(self._heap, d)

    def _release_window(self, force: bool) -> None:
        """Move held events to the send queue when the reorder window is full (or when forced)."""
        s = self.settings
        if not self._held:
            return
        full = s.reorder_window and len(self._held) >= s.reorder_window
        if not (force or (full and not s.paused)):
            return
        batch, self._held, self._held_since = self._held, [], None
        if s.reorder_window or force:
            if s.reorder_mode == "reverse":
                batch.reverse()
            elif s.reorder_window:
                self._random.shuffle(batch)
        now = time.monotonic()
        for offset, d in enumerate(batch):
            d.seq = self._seq + offset + 1  # keep the chosen order among equal due times
            self._schedule(d, now)
        self._seq += len(batch)

    # consuming -------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name="b24-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cv:
                delivery = self._next_due()
                if delivery is None:
                    if self._stopped:
                        return
                    continue
                self._in_flight += 1
            try:
                self._send(delivery)
            finally:
                with self._cv:
                    self._in_flight -= 1
                    self._cv.notify_all()

    def _next_due(self) -> _Delivery | None:
        """Called with the lock held: wait until something is due (or a window times out)."""
        now = time.monotonic()
        s = self.settings
        if self._held and not s.paused and self._held_since is not None \
                and now - self._held_since >= s.reorder_max_wait_seconds:
            self._release_window(force=True)
        if self._heap and self._heap[0].due <= now:
            return heapq.heappop(self._heap)
        waits = [self._heap[0].due - now] if self._heap else []
        if self._held and not s.paused and self._held_since is not None:
            waits.append(self._held_since + s.reorder_max_wait_seconds - now)
        self._cv.wait(timeout=max(0.005, min(waits)) if waits else 0.5)
        return None

    def _send(self, d: _Delivery) -> None:
        started = time.monotonic()
        entry = self._entry(d.seq, d.handler, d.event, d.body, duplicate=d.duplicate)
        try:
            response = self._post(d.handler.url, data=d.body.encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded",
                                           "User-Agent": "Bitrix24 Webhook Engine"},
                                  timeout=self.settings.timeout_seconds)
            entry["status"] = response.status_code
            entry["fate"] = "delivered" if 200 <= response.status_code < 300 else "failed"
        except Exception as exc:  # noqa: BLE001 - any failure just loses the event, as on Bitrix24
            entry["fate"], entry["error"] = "failed", f"{type(exc).__name__}: {exc}"
        entry["sent_after_seconds"] = round(started - d.queued_at, 3)
        with self._cv:
            self.log.append(entry)

    @staticmethod
    def _entry(seq: int, handler: Handler, event: str, body: str, *,
               fate: str = "pending", duplicate: bool = False) -> dict[str, Any]:
        return {"seq": seq, "event": event, "handler_id": handler.id, "url": handler.url, "body": body,
                "fate": fate, "duplicate": duplicate, "status": None, "error": None}

    # control -----------------------------------------------------------------------------------
    def pending(self) -> int:
        with self._cv:
            return len(self._heap) + len(self._held) + self._in_flight

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything now: held events (reorder applied) and delayed ones; wait until idle."""
        deadline = time.monotonic() + timeout
        with self._cv:
            self._release_window(force=True)
            now = time.monotonic()
            for d in self._heap:
                d.due = min(d.due, now)
            heapq.heapify(self._heap)
            if self._heap:
                self._ensure_thread()
            self._cv.notify_all()
            while self._heap or self._in_flight or (self._held and not self.settings.paused):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if self._held and not self.settings.paused:
                    self._release_window(force=True)
                self._cv.wait(timeout=min(remaining, 0.05))
            return True

    def snapshot_log(self) -> list[dict[str, Any]]:
        with self._cv:
            return [dict(e) for e in self.log]

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()


def event_body(event: str, handler_id: int, data: dict[str, Any], ts: int, auth: dict[str, str]) -> str:
    """The exact form body Bitrix24 posts: event, event_handler_id, data[...], ts, auth[...]."""
    return build_query({"event": event, "event_handler_id": handler_id, "data": data, "ts": ts, "auth": auth})

"""Outgoing webhook delivery with the banks' retry rules and a delivery log tests can read.

Tochka re-sends 30 times every 10 s until it gets exactly 200; T-Bank tries at most 5 times and
accepts any 2xx. Tests need the same behaviour compressed (interval 0) and observable, so both
emulators send through this one class and expose its log at `/_emulator/webhooks/deliveries`.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import requests


@dataclass
class RetryPolicy:
    """How many tries, how far apart, what counts as delivered."""

    max_attempts: int = 30
    interval: float = 10.0
    timeout: float = 5.0
    accept: Callable[[int], bool] = field(default=lambda status: status == 200)


@dataclass
class Delivery:
    """One webhook and every attempt made to deliver it."""

    id: int
    url: str
    event: str
    body: str
    headers: dict[str, str]
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "event": self.event, "body": self.body, "headers": self.headers,
                "attempts": list(self.attempts), "delivered": self.delivered, "finished": self.finished}


class WebhookSender:
    """Sends bodies to URLs with retries; `sync=True` does every attempt before returning."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self._log: list[Delivery] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def send(self, url: str, body: bytes | str, headers: dict[str, str], event: str,
             sync: bool = True, policy: RetryPolicy | None = None) -> Delivery:
        """Queue one webhook; returns its log record (complete if `sync`)."""
        text = body.decode() if isinstance(body, bytes) else body
        with self._lock:
            delivery = Delivery(next(self._ids), url, event, text, dict(headers))
            self._log.append(delivery)
        run = lambda: self._run(delivery, policy or self.policy)  # noqa: E731
        if sync:
            run()
        else:
            threading.Thread(target=run, name=f"webhook-{delivery.id}", daemon=True).start()
        return delivery

    def attempt(self, url: str, body: bytes | str, headers: dict[str, str], timeout: float = 5.0) -> int | None:
        """A single POST, logged nowhere: for "the target must answer 200" registration checks."""
        try:
            return requests.post(url, data=body, headers=headers, timeout=timeout).status_code
        except requests.RequestException:
            return None

    def _run(self, delivery: Delivery, policy: RetryPolicy) -> None:
        data = delivery.body.encode()
        for number in range(1, policy.max_attempts + 1):
            if self._stop.is_set():
                break
            record: dict[str, Any] = {"n": number, "at": datetime.now(timezone.utc).isoformat()}
            try:
                answer = requests.post(delivery.url, data=data, headers=delivery.headers, timeout=policy.timeout)
                record["status"] = answer.status_code
                ok = policy.accept(answer.status_code)
            except requests.RequestException as exc:
                record["error"] = type(exc).__name__
                ok = False
            with self._lock:
                delivery.attempts.append(record)
                if ok:
                    delivery.delivered = True
            if ok or number == policy.max_attempts:
                break
            if policy.interval and self._stop.wait(policy.interval):
                break
        with self._lock:
            delivery.finished = True

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.as_dict() for d in self._log]

    def reset(self) -> None:
        """Forget the log and cut short any retry loop still sleeping."""
        self._stop.set()
        with self._lock:
            self._log.clear()
        self._stop = threading.Event()

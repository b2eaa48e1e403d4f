"""Fintablo REST client: Bearer token, a 300-per-minute budget shared by the process, retries.

Fintablo counts requests per token over a minute and answers 429 beyond 300, with no Retry-After.
Every client of one token in this process draws from one budget, so the worker's threads slow
down together instead of tripping the limit. 429s, 5xx pages and timeouts are retried (tenacity,
exponential backoff); when the tries run out the event is retried later by the worker. Unknown
ids answer 422 "No item found" (never 404), which `get`/`update` turn into None.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from typing import Any, Callable

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.fintablo.settings import FintabloSettings
from relay.errors import PermanentError, Retryable as _Retryable, TransientError
from relay.redact import REDACTOR

NO_ITEM = "No item found"


class FintabloError(PermanentError):
    """Fintablo refused the request (validation, auth); retrying the same request cannot help."""

    def __init__(self, status: int, text: str, what: str) -> None:
        super().__init__(f"Fintablo {what}: {status} {text}")
        self.status, self.text = status, text


class RateBudget:
    """At most `limit` requests in any `window` seconds, shared by every caller holding this object."""

    _shared: dict[str, "RateBudget"] = {}
    _shared_lock = threading.Lock()

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.window = limit, window
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    @classmethod
    def for_token(cls, token: str, limit: int) -> "RateBudget":
        """The process-wide budget of one token (Fintablo limits per token, not per client)."""
        key = hashlib.sha256(token.encode()).hexdigest()
        with cls._shared_lock:
            budget = cls._shared.get(key)
            if budget is None:
                budget = cls._shared[key] = cls(limit)
            budget.limit = min(budget.limit, limit)
            return budget

    def acquire(self) -> float:
        """Wait until a request may go; returns how long it waited (0 when under the budget)."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return waited
                pause = self._sent[0] + self.window - now
                self._sleep(pause)
                waited += pause


class FintabloClient:
    def __init__(self, settings: FintabloSettings, budget: RateBudget | None = None) -> None:
        self.settings = settings
        self.base = settings.base_url.rstrip("/") + "/v1"
        token = settings.token.get_secret_value()
        self.budget = budget or RateBudget.for_token(token, settings.requests_per_minute)
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.requests_sent = 0

    # --- the five verbs -------------------------------------------------------------------
    def list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return self.call("GET", path, params={k: v for k, v in params.items() if v is not None}) or []

    def get(self, path: str, item_id: int | str) -> dict[str, Any] | None:
        items = self.call("GET", f"{path}/{item_id}", missing_ok=True)
        return items[0] if items else None

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        items = self.call("POST", path, json=body)
        if not items:
            raise TransientError(f"Fintablo POST /v1/{path} answered without the created item")
        return items[0]

    def update(self, path: str, item_id: int | str, body: dict[str, Any]) -> dict[str, Any] | None:
        items = self.call("PUT", f"{path}/{item_id}", json=body, missing_ok=True)
        return items[0] if items else None

    def all_transactions(self, **params: Any) -> list[dict[str, Any]]:
        """Every page of `/v1/transaction` (1000 a page; no total is sent, a short page is the last)."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            items = self.list("transaction", **params, page=page, pageSize=1000)
            rows.extend(items)
            if len(items) < 1000:
                return rows
            page += 1

    # --- transport ------------------------------------------------------------------------
    def call(self, method: str, path: str, missing_ok: bool = False, **kwargs: Any) -> list[dict[str, Any]] | None:
        """`items` of the answer; None for 422 No item found when `missing_ok`."""
        what = f"{method} /v1/{path}"
        retrying = Retrying(retry=retry_if_exception_type(_Retryable), stop=stop_after_attempt(self.settings.retries),
                            wait=wait_exponential(multiplier=self.settings.retry_wait_seconds, max=60), reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, what, missing_ok, **kwargs)
        except _Retryable as exc:
            raise exc.give_up("Fintablo", f"{exc} (after {self.settings.retries} tries)", 30.0) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, what: str, missing_ok: bool, **kwargs: Any) -> list[dict[str, Any]] | None:
        self.budget.acquire()
        self.requests_sent += 1
        try:
            response = self.session.request(method, f"{self.base}/{path}", timeout=self.settings.timeout_seconds, **kwargs)
        except requests.RequestException as exc:
            raise _Retryable(REDACTOR.text(f"Fintablo {what}: {type(exc).__name__}"), unreachable=True) from None
        request_id = response.headers.get("X-Request-Id", "")
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"Fintablo {what}: HTTP {response.status_code} (X-Request-Id {request_id or '-'})",
                             unreachable=response.status_code >= 500)
        try:
            body = response.json()
        except ValueError:
            raise _Retryable(f"Fintablo {what}: HTTP {response.status_code}, not JSON", unreachable=response.status_code >= 500) from None
        status = int(body.get("status", response.status_code)) if isinstance(body, dict) else response.status_code
        if response.status_code == 200 and status == 200:
            items = body.get("items") if isinstance(body, dict) else None
            return items if isinstance(items, list) else []
        text = str(body.get("statusText", "")) if isinstance(body, dict) else response.text[:200]
        if missing_ok and status == 422 and text == NO_ITEM:
            return None
        if status == 401:
            raise FintabloError(401, text + " Check connectors.fintablo.token.", what)
        raise FintabloError(status, f"{text} (X-Request-Id {request_id or '-'})", what)

    def close(self) -> None:
        self.session.close()

"""Planfix REST v2 client: Bearer token, one request budget per account in this process, retries.

Planfix allows 1 request per second per account and answers a breach (and an exhausted daily
budget) with code 22 and a `timeToReset` in milliseconds; every client of one account in this
process draws from one `RateBudget`, and a code 22 pushes the whole budget back, so the worker's
threads slow down together. Timeouts, 5xx and code 22 are retried here (tenacity); when the tries
run out, or the wait is longer than `max_wait_seconds` (the daily limit), the event goes back to
the worker as a `TransientError`. A refusal with a fail envelope is a `PlanfixError` carrying
Planfix's own text; "not found" codes are `PlanfixNotFound`, whatever HTTP status came with them
(the spec is inconsistent there). The token travels only in the Authorization header, never in a
URL or a message.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from connectors.planfix.settings import PlanfixSettings
from relay.errors import PermanentError, Retryable as _Retryable, TransientError
from relay.redact import REDACTOR

NOT_FOUND_CODES = {1000, 2000, 3000, 4000, 5000, 6000, 6010, 7000, 8000, 9000}
RATE_LIMITED = 22
PAGE = 100


class PlanfixError(PermanentError):
    """Planfix refused the request (validation, access); sending it again cannot help."""

    def __init__(self, what: str, status: int, code: int | None, text: str) -> None:
        super().__init__(f"Planfix {what}: HTTP {status}" + (f", code {code}" if code is not None else "") + f": {text}")
        self.status, self.code, self.text = status, code, text


class PlanfixNotFound(PlanfixError):
    """The task, comment, contact, entry or file does not exist (any more)."""


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def queued(self) -> bool:
        """202: Planfix is changing the task already and queued this change; it applies shortly."""
        return self.status == 202


class RateBudget:
    """Requests spaced at least `1/per_second` apart, shared by every caller holding this object."""

    _shared: dict[str, "RateBudget"] = {}
    _shared_lock = threading.Lock()

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_account(cls, account_url: str, per_second: float) -> "RateBudget":
        """The process-wide budget of one account (Planfix counts per account, not per client)."""
        with cls._shared_lock:
            budget = cls._shared.get(account_url)
            if budget is None:
                budget = cls._shared[account_url] = cls(per_second)
            budget.interval = max(budget.interval, 1.0 / per_second)
            return budget

    def acquire(self) -> float:
        """Wait for this caller's slot; returns how long it waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        return slot - now

    def push_back(self, seconds: float) -> None:
        """Planfix said "too many": nobody in this process sends for `seconds`."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


class PlanfixClient:
    def __init__(self, settings: PlanfixSettings, budget: RateBudget | None = None) -> None:
        self.settings = settings
        self.base = settings.account_url
        self.budget = budget or RateBudget.for_account(settings.account_url, settings.requests_per_second)
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {settings.token.get_secret_value()}", "Accept": "application/json"})
        self.requests_sent = 0
        self.rate_limited = 0  # code-22 answers seen (each one waited out and retried)

    # --- transport ------------------------------------------------------------------------
    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
             files: dict[str, Any] | None = None) -> Reply:
        """One REST call with retries; raises PlanfixError/PlanfixNotFound/TransientError.

        Failures (timeouts, 5xx) count against `retries`; rate-limit answers do not — they are waited
        out for as long as `max_wait_seconds` allows, since Planfix says exactly when to come back."""
        what = f"{method} {path}"
        settings = self.settings
        failures = 0

        def stop(state: RetryCallState) -> bool:
            nonlocal failures
            exc = state.outcome.exception() if state.outcome else None
            if getattr(exc, "wait", None) is not None:
                return state.seconds_since_start > settings.max_wait_seconds
            failures += 1
            return failures >= settings.retries

        retrying = Retrying(retry=retry_if_exception_type(_Retryable), stop=stop, reraise=True,
                            wait=lambda state: _wait(state.outcome.exception() if state.outcome else None, failures,
                                                     settings.retry_wait_seconds))
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, what, json, params, files)
        except _Retryable as exc:
            message, wait = f"{exc} (gave up after {failures} failures)", max(exc.wait or 0.0, 5.0)
            raise exc.give_up("Planfix", message, wait) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, what: str, body: Any, params: dict[str, Any] | None,
              files: dict[str, Any] | None) -> Reply:
        self.budget.acquire()
        self.requests_sent += 1
        try:
            response = self.session.request(method, self.base + path, json=body if files is None else None, params=params,
                                            files=files, timeout=self.settings.timeout_seconds)
        except requests.RequestException as exc:
            raise _Retryable(REDACTOR.text(f"Planfix {what}: {type(exc).__name__}"), unreachable=True) from None
        if response.status_code == 202:
            return Reply(202)
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            if response.status_code >= 500:
                raise _Retryable(f"Planfix {what}: HTTP {response.status_code}, not JSON", unreachable=True)
            raise PlanfixError(what, response.status_code, None, f"answer is not a JSON object: {response.text[:200]!r}")
        if response.status_code < 300 and data.get("result", "success") != "fail":
            return Reply(response.status_code, data)
        return self._refusal(what, response.status_code, data)

    def _refusal(self, what: str, status: int, data: dict[str, Any]) -> Reply:
        code = data.get("code")
        code = int(code) if isinstance(code, (int, str)) and str(code).lstrip("-").isdigit() else None
        text = REDACTOR.text(str(data.get("error") or "no error text"))
        if code == RATE_LIMITED:
            self.rate_limited += 1
            wait = _reset_seconds(data.get("timeToReset"))
            self.budget.push_back(wait)
            if wait > self.settings.max_wait_seconds:
                raise TransientError(f"Planfix {what}: request limit exhausted (code 22: {text}); "
                                     f"it resets in {wait:.0f}s", retry_after=wait)
            raise _Retryable(f"Planfix {what}: rate limit (code 22: {text})", wait)
        if code in NOT_FOUND_CODES:
            raise PlanfixNotFound(what, status, code, text)
        if status >= 500 or status in (408, 429):
            raise _Retryable(f"Planfix {what}: HTTP {status}" + (f", code {code}" if code is not None else "") + f": {text}",
                             unreachable=status >= 500)
        if status == 401:
            text += " (check connectors.planfix.token)"
        elif status == 405 and code == 5:
            text += " (the token's scopes do not allow this call)"
        raise PlanfixError(what, status, code, text)

    # --- conveniences ---------------------------------------------------------------------
    def get(self, path: str, fields: str = "") -> dict[str, Any]:
        return self.call("GET", path, params={"fields": fields} if fields else None).body

    def post(self, path: str, body: dict[str, Any], silent: bool = False) -> Reply:
        return self.call("POST", path, json=body, params={"silent": "true"} if silent else None)

    def list_all(self, path: str, body: dict[str, Any], key: str, limit: int = 10_000) -> list[dict[str, Any]]:
        """Every page of a `/list` call (100 a page; Planfix sends no total: a short page is the last)."""
        rows: list[dict[str, Any]] = []
        offset = 0
        while len(rows) < limit:
            page = self.post(path, {**body, "offset": offset, "pageSize": PAGE}).body.get(key) or []
            rows.extend(page)
            if len(page) < PAGE:
                break
            offset += PAGE
        return rows

    def close(self) -> None:
        self.session.close()


def _reset_seconds(value: Any) -> float:
    """`timeToReset` is in milliseconds (the one public client that handles it reads it so)."""
    try:
        return max(float(value) / 1000.0, 0.05)
    except (TypeError, ValueError):
        return 1.0


def _wait(exc: BaseException | None, attempt: int, first: float) -> float:
    """As long as Planfix said (`timeToReset`), else exponential from `first`."""
    told = getattr(exc, "wait", None)
    if told is not None:
        return float(told) + 0.05
    return min(first * 2 ** max(attempt - 1, 0), 30.0)

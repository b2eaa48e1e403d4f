"""HTTP for the bank APIs: Bearer auth, timeouts, pacing, and retries of what is worth retrying.

Bank polls run in the scheduler, not in an event, so a failure here is simply logged and the next
run starts from the saved cursor; retries only smooth over a 429 or a bad gateway in between.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from relay.redact import REDACTOR


class BankApiError(Exception):
    """The bank answered with an error worth reporting as is (auth, validation, not found)."""

    def __init__(self, bank: str, status: int, text: str) -> None:
        super().__init__(REDACTOR.text(f"{bank}: HTTP {status}: {text[:300]}"))
        self.status = status


class BankUnavailable(Exception):
    """A 429, a 5xx or a network failure that outlasted the retries; the next run tries again."""


class BankHttp:
    """One bank's API at `base_url`, called from the scheduler's thread (a lock keeps pacing honest)."""

    def __init__(self, bank: str, base_url: str, token: str, timeout: float, requests_per_second: float = 0,
                 attempts: int = 4, wait_seconds: float = 0.5) -> None:
        self.bank = bank
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._last = 0.0
        self._lock = threading.Lock()
        self._attempts, self._wait = attempts, wait_seconds

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer; raises BankApiError for a 4xx, BankUnavailable once retries are used up."""
        retrying = Retrying(retry=retry_if_exception_type(BankUnavailable), stop=stop_after_attempt(self._attempts),
                            wait=wait_exponential(multiplier=self._wait, max=30), reraise=True)
        for attempt in retrying:
            with attempt:
                return self._once(method, path, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, **kwargs: Any) -> Any:
        self._pace()
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise BankUnavailable(f"{self.bank}: {type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise BankUnavailable(f"{self.bank}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise BankApiError(self.bank, response.status_code, response.text)
        try:
            return response.json()
        except ValueError:
            raise BankUnavailable(f"{self.bank}: answer is not JSON") from None

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:
            pause = self._last + self._interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last = time.monotonic()

    def close(self) -> None:
        self.session.close()

"""HTTP for APIs the scheduler polls (banks, EDO): timeouts, pacing, retries of what is worth retrying.

Polls run in the scheduler, not in an event: a failure is logged, the cursor stays, and the next run
resumes. Retries only smooth over a 429, a bad gateway or a dropped connection in between; any other
4xx is reported as it is (the message redacted), never retried.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from relay.redact import REDACTOR


class ApiError(Exception):
    """The API answered with an error worth reporting as is (auth, validation, not found)."""

    def __init__(self, system: str, status: int, text: str) -> None:
        super().__init__(REDACTOR.text(f"{system}: HTTP {status}: {text[:300]}"))
        self.status = status


class ApiUnavailable(Exception):
    """A 429, a 5xx or a network failure that outlasted the retries; the next run tries again."""


class PolledHttp:
    """One API at `base_url`. Subclasses name their own error types and which 4xx they read themselves."""

    api_error: type[ApiError] = ApiError
    unavailable: type[ApiUnavailable] = ApiUnavailable
    passed_through: frozenset[int] = frozenset()  # 4xx statuses handed back instead of raised

    def __init__(self, system: str, base_url: str, timeout: float, requests_per_second: float = 0,
                 attempts: int = 4, wait_seconds: float = 0.5, headers: dict[str, str] | None = None) -> None:
        self.system, self.base_url, self.timeout = system, base_url.rstrip("/"), timeout
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._last = 0.0
        self._lock = threading.Lock()  # pacing is honest across the threads sharing this client
        self._attempts, self._wait = attempts, wait_seconds

    def response(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The response; raises `api_error` for a 4xx, `unavailable` once retries are used up."""
        retrying = Retrying(retry=retry_if_exception_type(self.unavailable), stop=stop_after_attempt(self._attempts),
                            wait=wait_exponential(multiplier=self._wait, max=30), reraise=True)
        for attempt in retrying:
            with attempt:
                return self._once(method, path, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        self._pace()
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise self.unavailable(f"{self.system}: {type(exc).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise self.unavailable(f"{self.system}: HTTP {response.status_code}")
        if response.status_code >= 400 and response.status_code not in self.passed_through:
            raise self.api_error(self.system, response.status_code, response.text)
        return response

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

"""HTTP for the bank APIs: Bearer auth and JSON answers over the scheduler's polled-API client."""
from __future__ import annotations

from typing import Any

from relay.polled_http import ApiError, ApiUnavailable, PolledHttp


class BankApiError(ApiError):
    """The bank answered with an error worth reporting as is (auth, validation, not found)."""


class BankUnavailable(ApiUnavailable):
    """A 429, a 5xx or a network failure that outlasted the retries; the next run tries again."""


class BankHttp(PolledHttp):
    """One bank's API at `base_url`, called from the scheduler's thread."""

    api_error, unavailable = BankApiError, BankUnavailable

    def __init__(self, bank: str, base_url: str, token: str, timeout: float, requests_per_second: float = 0,
                 attempts: int = 4, wait_seconds: float = 0.5) -> None:
        super().__init__(bank, base_url, timeout, requests_per_second, attempts, wait_seconds,
                         headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.bank = bank

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer; raises BankApiError for a 4xx, BankUnavailable once retries are used up."""
        response = self.response(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise BankUnavailable(f"{self.bank}: answer is not JSON") from None

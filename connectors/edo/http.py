"""HTTP for the EDO APIs over the scheduler's polled-API client. A 401 comes back to the caller
(SBIS logs in again when its session expires); a 402 (Diadoc: the API subscription expired) and
other 4xx are reported as they are, never retried."""
from __future__ import annotations

from typing import Any

import requests

from relay.polled_http import ApiError, ApiUnavailable, PolledHttp


class EdoApiError(ApiError):
    pass


class EdoUnavailable(ApiUnavailable):
    """429, 5xx or a network failure that outlasted the retries."""


class EdoHttp(PolledHttp):
    api_error, unavailable = EdoApiError, EdoUnavailable
    passed_through = frozenset({401})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The response (any 2xx or 401); raises EdoApiError for other 4xx, EdoUnavailable once retries are used up."""
        return self.response(method, path, **kwargs)

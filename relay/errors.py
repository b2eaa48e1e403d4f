"""How a failure should be treated: try again later, or stop and tell the admin."""
from __future__ import annotations


class TransientError(Exception):
    """Worth retrying: timeouts, 5xx, rate limits. `retry_after` (seconds) overrides the backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help (validation errors, missing config): the event goes to dead letters."""

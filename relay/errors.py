"""How a failure should be treated: try again later, or stop and tell the admin."""
from __future__ import annotations


class TransientError(Exception):
    """Worth retrying: timeouts, 5xx, rate limits. `retry_after` (seconds) overrides the backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help (validation errors, missing config): the event goes to dead letters."""


class UpstreamUnavailable(TransientError):
    """The outside system itself cannot be reached or is failing (connection refused, timeout, 5xx).

    Nothing is wrong with the event: the worker lets it wait for the outage to pass without using up
    its attempts, so an hour-long portal outage drains by itself instead of filling dead letters.
    """

    def __init__(self, upstream: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after)
        self.upstream = upstream


class Retryable(Exception):
    """Raised inside a connector's own short retry loop; once the loop gives up, `give_up` says what
    the worker should make of it."""

    def __init__(self, message: str, wait: float | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.wait = wait
        self.unreachable = unreachable  # no answer, or a 5xx: the outside system itself is down

    def give_up(self, upstream: str, message: str, retry_after: float | None) -> TransientError:
        if self.unreachable:
            return UpstreamUnavailable(upstream, message, retry_after)
        return TransientError(message, retry_after)

"""What a source plug-in gives the intake endpoint, and what it gets from it."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class InboundRequest:
    """The parts of an HTTP request a source may look at (no Flask objects leak into sources)."""

    source: str
    subpath: str  # "/hooks/telegram/<bot>" → "<bot>"; "" when absent
    method: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)
    remote_addr: str = ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class IncomingEvent:
    """One event for the inbox. `idem_key` makes repeated deliveries one event."""

    kind: str
    entity_key: str
    payload: dict[str, Any]
    idem_key: str = ""
    # For sources whose events only say "look again" (the entity is read back): a repeat of an event
    # that is already being processed or done is a new look, since the entity may have changed again
    # in the same second. Repeats of a still-waiting event are one event.
    repeatable: bool = False

    def with_default_key(self, body: bytes) -> "IncomingEvent":
        if self.idem_key:
            return self
        return IncomingEvent(self.kind, self.entity_key, self.payload, "sha256:" + hashlib.sha256(body).hexdigest(), self.repeatable)


class Rejected(Exception):
    """The request is refused with `status` and a reason the sender can act on; nothing is stored."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Source(Protocol):
    name: str

    def accept(self, request: InboundRequest) -> list[IncomingEvent]:
        """Authenticate and parse; raise Rejected (401/403 for auth, 400/415/422 for content)."""
        ...


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the secret."""
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)

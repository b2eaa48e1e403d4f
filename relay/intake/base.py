"""What a source plug-in gives the intake endpoint, and what it gets from it."""
from __future__ import annotations

import hashlib
import hmac
import json
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


def json_object(body: bytes, what: str = "") -> dict[str, Any]:
    """The body as a JSON object, or Rejected(400) saying what is wrong with it (`what` names the
    object the source expects, e.g. " (a submission)")."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(400, f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Rejected(400, "body is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejected(400, f"body must be a JSON object{what}")
    return data


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the secret."""
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


# Sizes of the inbox_events columns (relay.store.schema); idem keys are cut to fit by the inbox itself.
_KEY_SIZES = {"kind": 128, "entity_key": 255}


def text_problem(value: str) -> str:
    """Why PostgreSQL would refuse this text ("" if it would not): NUL characters and unpaired
    surrogates (from "\\ud800" in JSON) cannot be stored; SQLite takes them, so check everywhere."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate"
    return ""


def check_storable(events: list[IncomingEvent]) -> None:
    """Refuse (422) events the store cannot keep, before any of them is written: one unstorable
    event would otherwise fail the shared group commit and turn into a 503 for everyone in it."""
    for event in events:
        for name, size in _KEY_SIZES.items():
            value = getattr(event, name)
            if len(value) > size:
                raise Rejected(422, f"the event's {name} is {len(value)} characters long; at most {size} can be stored")
        for name in ("kind", "entity_key", "idem_key"):
            problem = text_problem(getattr(event, name))
            if problem:
                raise Rejected(422, f"the event's {name} {problem}")
        try:
            json.dumps(event.payload, allow_nan=False)
        except ValueError:
            raise Rejected(422, "the payload holds NaN or Infinity, which JSON does not allow") from None
        except RecursionError:
            raise Rejected(422, "the payload is nested too deeply") from None

"""The demo's window into the relay: which events arrived since a step began, and what their traces say.

It reads the relay's store directly (the same `store.url` as the running sandbox, which may be
another process), so the demo can name the event ids an admin then opens in /admin.
"""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from sqlalchemy import func, select

from relay.config.loader import LoadedConfig
from relay.sandbox.store import is_ready, store_url
from relay.store import Store
from relay.store.schema import InboxEvent, TraceStep

T = TypeVar("T")
FINISHED = ("done", "dead")
QUIET_STEPS = {"claimed", "done", "rule.skipped"}  # every event has them; they explain nothing


class DemoFailed(Exception):
    """A step did not see what it expected; the message says what and where to look."""


class Watch:
    def __init__(self, config: LoadedConfig, timeout: float = 30.0) -> None:
        self.store = Store(store_url(config))
        self.timeout = timeout

    def ready(self) -> bool:
        """The sandbox has wired every emulator to the relay (its web side answers a little earlier)."""
        return is_ready(self.store)

    def mark(self) -> int:
        """The newest event id now: a step's events are the ones after it."""
        with self.store.session() as s:
            return int(s.scalar(select(func.max(InboxEvent.id))) or 0)

    def events(self, since: int, sources: tuple[str, ...]) -> list[InboxEvent]:
        with self.store.session() as s:
            query = select(InboxEvent).where(InboxEvent.id > since, InboxEvent.source.in_(sources)).order_by(InboxEvent.id)
            return list(s.scalars(query))

    def wait(self, what: str, since: int, sources: tuple[str, ...], outcome: Callable[[], T | None]) -> tuple[T, list[InboxEvent]]:
        """Wait until every event of `sources` since `since` is finished and `outcome()` gives something.

        The outcome (an emulator call) is only asked once the relay is idle: the emulators' rate limits
        are shared with the relay, and a demo that polls them hard would slow the relay down."""
        deadline = time.monotonic() + self.timeout
        while True:
            events = self.events(since, sources)
            result = outcome() if events and all(e.status in FINISHED for e in events) else None
            if result:
                return result, events
            if time.monotonic() > deadline:
                seen = ", ".join(f"{e.id} {e.status}" for e in events) or "none"
                raise DemoFailed(f"{what} did not happen within {self.timeout:.0f} s (relay events since: {seen})")
            time.sleep(0.3)

    def highlights(self, event_id: int) -> list[str]:
        """What the trace says happened: rules matched, effects written or found, notes, errors."""
        with self.store.session() as s:
            steps = s.scalars(select(TraceStep).where(TraceStep.event_id == event_id).order_by(TraceStep.id))
            return [row.message for row in steps if row.step not in QUIET_STEPS]

    def close(self) -> None:
        self.store.dispose()


def describe(event: InboxEvent, relay: str, highlights: list[str]) -> list[str]:
    """Lines for one event: id, what it was, its outcome, where to look, and the trace's highlights."""
    lines = [f"relay event {event.id}: {event.source} {event.kind} ({event.entity_key}) → {event.status}   "
             f"{relay}/admin/events/{event.id}"]
    lines += [f"    · {shorten(text)}" for text in highlights[:8]]
    return lines


def shorten(text: str, width: int = 150) -> str:
    """One line of at most `width` characters (a new deal's trace lists every field it has)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def poll(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Wait for an outcome in an emulator that no relay event marks (e.g. a message the bot sent)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoFailed(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.5)

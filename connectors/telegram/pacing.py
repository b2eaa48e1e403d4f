"""Outbound pacing for one bot: sliding windows overall, per chat and per group, plus 429 pauses.

Runs on the connector's asyncio loop (one thread), so no locks beyond asyncio's. A send takes a
slot in every window that applies before it starts and stamps the slot when its answer arrives:
Telegram counts a send when it receives it, which is never later than our answer, so a window
measured from our answers is never shorter than Telegram's. Sends in flight always count.
Sends into one chat are serialized (FIFO), which keeps the chat's messages in order.
"""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

from connectors.telegram.settings import PacingSettings, Window


@dataclass(eq=False)
class Slot:
    """One send's place in the windows; `end` is None while the send is in flight."""

    end: float | None = None


@dataclass
class _Limit:
    window: Window
    margin: float
    slots: list[Slot] = field(default_factory=list)

    def delay(self, now: float) -> float | None:
        """0: room now; > 0: seconds until room; None: full of sends still in flight."""
        span = self.window.seconds + self.margin
        self.slots = [s for s in self.slots if s.end is None or s.end + span > now]
        excess = len(self.slots) - self.window.count + 1
        if excess <= 0:
            return 0.0
        expiries = sorted(s.end + span for s in self.slots if s.end is not None)
        return expiries[excess - 1] - now if len(expiries) >= excess else None


class TooLong(Exception):
    """Waiting for room would take longer than pacing.max_wait_seconds."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Telegram pacing: the next send into this chat is possible in {seconds:.1f}s")
        self.seconds = seconds


def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or are addressed by @username)."""
    return isinstance(chat_id, str) or chat_id < 0


class Pacer:
    def __init__(self, settings: PacingSettings) -> None:
        self.settings = settings
        self._overall = _Limit(settings.overall, settings.margin_seconds)
        self._chats: dict[str, _Limit] = {}
        self._groups: dict[str, _Limit] = {}
        self._paused: dict[str, float] = {}
        self._chat_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._changed: asyncio.Condition | None = None

    def chat_lock(self, chat_id: int | str) -> asyncio.Lock:
        """Held around everything sent into one chat (in order, one at a time)."""
        return self._chat_locks[str(chat_id)]

    def _limits(self, chat_id: int | str) -> list[_Limit]:
        key, margin = str(chat_id), self.settings.margin_seconds
        limits = [self._overall, self._chats.setdefault(key, _Limit(self.settings.per_chat, margin))]
        if is_group(chat_id):
            limits.append(self._groups.setdefault(key, _Limit(self.settings.per_group, margin)))
        return limits

    def pause(self, chat_id: int | str, seconds: float) -> None:
        """Telegram said 429 retry_after: nothing more into this chat until then."""
        key = str(chat_id)
        self._paused[key] = max(self._paused.get(key, 0.0), time.monotonic() + seconds)

    async def acquire(self, chat_id: int | str) -> Slot:
        """Wait until a send into `chat_id` fits every window; raise TooLong rather than wait too long."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        limits = self._limits(chat_id)
        async with self._changed:
            while True:
                now = time.monotonic()
                delays = [limit.delay(now) for limit in limits] + [self._paused.get(str(chat_id), now) - now]
                if all(d is not None and d <= 0 for d in delays):
                    slot = Slot()
                    for limit in limits:
                        limit.slots.append(slot)
                    return slot
                known = [d for d in delays if d is not None and d > 0]
                wait = max(known) if known else None
                if wait is not None and wait > self.settings.max_wait_seconds:
                    raise TooLong(wait)
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)
                except TimeoutError:
                    pass

    async def release(self, slot: Slot) -> None:
        """The send was answered (or failed): its slot now ages out from this moment."""
        slot.end = time.monotonic()
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

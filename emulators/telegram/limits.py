"""Flood control: sliding windows per bot, per chat and per group, answered with 429 + retry_after.

Telegram publishes only rough numbers (FAQ "My bot is hitting limits"; PTB's FloodLimit constants):
~30 messages/s overall, ≤20 messages/min into one group, ~1 message/s into one chat with short
bursts tolerated. The emulator models each as "at most `count` sends in any `seconds` window"
and, when a send would exceed a window, answers 429 with the seconds until that window has room —
so the relay's back-off can be checked against a number that means something.
"""
from __future__ import annotations

import math
import threading
from collections import defaultdict, deque

from pydantic import BaseModel, ConfigDict, Field

from .errors import too_many_requests

SENDING_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto", "copymessage", "forwardmessage"})


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1)
    seconds: float = Field(gt=0)


class LimitSettings(BaseModel):
    """Knobs for flood control; POST /_emulator/limits replaces them."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    overall: Window = Window(count=30, seconds=1.0)
    per_group: Window = Window(count=20, seconds=60.0)
    # "about one message per second, short bursts allowed": three in any three seconds.
    per_chat: Window = Window(count=3, seconds=3.0)


class RateLimiter:
    """Remembers successful sends and refuses the one that would overflow a window."""

    def __init__(self, settings: LimitSettings | None = None) -> None:
        self.settings = settings or LimitSettings()
        self._lock = threading.Lock()
        self._sends: dict[tuple[str, int, int], deque[float]] = defaultdict(deque)
        self.refused: dict[int, int] = defaultdict(int)  # bot id -> 429s answered

    def configure(self, settings: LimitSettings) -> None:
        with self._lock:
            self.settings = settings

    def reset(self) -> None:
        with self._lock:
            self._sends.clear()
            self.refused.clear()

    def check_and_record(self, bot_id: int, chat_id: int, is_group: bool, now: float) -> None:
        """Raise 429 if this send overflows a window; otherwise count it."""
        with self._lock:
            s = self.settings
            if not s.enabled:
                return
            keys = [(("overall", bot_id, 0), s.overall), (("chat", bot_id, chat_id), s.per_chat)]
            if is_group:
                keys.append((("group", bot_id, chat_id), s.per_group))
            wait = 0.0
            for key, window in keys:
                sends = self._sends[key]
                while sends and sends[0] <= now - window.seconds:
                    sends.popleft()
                if len(sends) >= window.count:
                    # room appears when the send `count` places back leaves the window
                    wait = max(wait, sends[len(sends) - window.count] + window.seconds - now)
            if wait > 0:
                self.refused[bot_id] += 1
                raise too_many_requests(max(1, math.ceil(wait)))
            for key, _ in keys:
                self._sends[key].append(now)

    def refused_total(self) -> int:
        with self._lock:
            return sum(self.refused.values())

"""One emulated portal: its identity and webhook, data, limits, counters and event handlers.

Everything a test or the sandbox may want to inspect or steer hangs off this object, reachable as
`app.extensions["bitrix24"]`.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from .events import DeliverySettings, EventDispatcher, Handler, event_body
from .limits import LimitSettings, Limits
from .store import Store
from .timeutil import from_unix, make_tz

DEFAULT_WEBHOOK_CODE = "emu1webhook2code"
DEFAULT_APPLICATION_TOKEN = "emu0application0token0000000000a"
DEFAULT_SCOPES = ["crm", "task", "tasks_extended", "im", "user", "user_brief", "department", "placement"]

_TEXTS = {"ru": {"deal_title": "Сделка #{id}"}, "en": {"deal_title": "Deal #{id}"}}


class PortalConfig(BaseModel):
    """Identity of the portal and of the incoming webhook clients call through."""

    model_config = ConfigDict(extra="forbid")

    domain: str = "b24-emulator.bitrix24.ru"
    member_id: str = ""
    timezone: str = "+03:00"
    currency: str = "RUB"
    language: Literal["ru", "en"] = "ru"
    webhook_user_id: int = 1
    webhook_code: str = DEFAULT_WEBHOOK_CODE
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    require_https: bool = False
    application_token: str = DEFAULT_APPLICATION_TOKEN

    def model_post_init(self, _: Any) -> None:
        if not self.member_id:
            self.member_id = hashlib.md5(self.domain.encode()).hexdigest()


class RequestCounter:
    """REST traffic by method: what the relay's benchmarks read to count Bitrix24 requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_method: Counter[str] = Counter()
            self.batch_commands: Counter[str] = Counter()
            self.rejected: Counter[str] = Counter()

    def hit(self, method: str) -> None:
        with self._lock:
            self.total += 1
            self.by_method[method] += 1

    def sub_call(self, method: str) -> None:
        with self._lock:
            self.batch_commands[method] += 1

    def reject(self, code: str) -> None:
        with self._lock:
            self.rejected[code] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "by_method": dict(self.by_method),
                    "batch_commands": dict(self.batch_commands),
                    "batch_commands_total": sum(self.batch_commands.values()), "rejected": dict(self.rejected)}


class Portal:
    """State of one portal. `clock()` returns unix seconds and drives timestamps, `ts` and limits."""

    def __init__(self, config: PortalConfig, *, seed: Any = None, limits: LimitSettings | None = None,
                 clock: Callable[[], float] | None = None, post: Callable[..., Any] | None = None) -> None:
        self.config = config
        self.clock = clock or time.time
        self.store = Store()
        self.limits = Limits(limits, clock=self.clock)
        self.events = EventDispatcher(post=post)
        self.counter = RequestCounter()
        self.handlers: list[Handler] = []
        self.seed = seed
        self._lock = threading.Lock()
        self.reset()

    @property
    def tz(self) -> timezone:
        return make_tz(self.config.timezone)

    def now(self) -> datetime:
        return from_unix(self.clock(), self.tz)

    def text(self, key: str) -> str:
        return _TEXTS[self.config.language][key]

    def reset(self, reseed: bool = True) -> None:
        """Back to the seeded state: data, counters, buckets, event log (handlers from the seed only)."""
        from .seed import apply_seed, install_base
        self.store.clear()
        self.counter.reset()
        self.limits.reset()
        self.events.clear()
        with self._lock:
            self.handlers = []
        install_base(self)
        if reseed and self.seed is not None:
            apply_seed(self, self.seed)

    # event handlers ------------------------------------------------------------------------------
    def add_handler(self, event: str, url: str, application_token: str | None = None,
                    handler_id: int | None = None) -> Handler:
        with self._lock:
            hid = handler_id if handler_id is not None else self.store.next_serial("HANDLER")
            handler = Handler(hid, event.upper(), url, application_token or self.config.application_token)
            self.handlers.append(handler)
            return handler

    def remove_handlers(self, event: str | None = None, handler_id: int | None = None) -> int:
        with self._lock:
            keep = [h for h in self.handlers
                    if not ((event is None or h.event == event.upper()) and (handler_id is None or h.id == handler_id))]
            removed, self.handlers = len(self.handlers) - len(keep), keep
            return removed

    def auth_block(self, handler: Handler) -> dict[str, str]:
        """`auth[...]` of an outgoing-webhook event: no OAuth tokens, just portal identity and the token."""
        domain = self.config.domain
        return {"domain": domain, "client_endpoint": f"https://{domain}/rest/",
                "server_endpoint": "https://oauth.bitrix.info/rest/", "member_id": self.config.member_id,
                "application_token": handler.application_token}

    def fire(self, event: str, data: dict[str, Any]) -> None:
        """Queue `event` for every handler subscribed to it (none → nothing happens, as on Bitrix24)."""
        code = event.upper()
        with self._lock:
            targets = [h for h in self.handlers if h.event == code]
        ts = int(self.clock())
        for handler in targets:
            self.events.emit(handler, code, event_body(code, handler.id, data, ts, self.auth_block(handler)))

    def configure_delivery(self, settings: DeliverySettings) -> None:
        self.events.configure(settings)

"""Per-bot update queue: getUpdates long polling, or webhook delivery with redelivery on failure.

Mirrors the official server: updates wait in one queue per bot; with a webhook set they are POSTed
one by one as JSON with `X-Telegram-Bot-Api-Secret-Token`, any non-2xx (or a network error) keeps
the update queued and retries after a pause (our Retry-After honoured); without a webhook they wait
for getUpdates, which confirms by offset. Retry pauses are compressed (see knobs.py).
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import requests

from .errors import GETUPDATES_TERMINATED, GETUPDATES_WITH_WEBHOOK, ApiError
from .models import BotAccount, Update

if TYPE_CHECKING:
    from .state import TelegramState

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateHub:
    """The queue of one bot and the thread that pushes it to the bot's webhook."""

    def __init__(self, state: "TelegramState", bot: BotAccount) -> None:
        self.state = state
        self.bot = bot
        self.cond = threading.Condition(state.lock)
        self.pending: deque[Update] = deque()
        self.next_id = state.settings.first_update_id
        self.log: list[dict[str, Any]] = []         # every update ever made, with its fate
        self.deliveries: list[dict[str, Any]] = []  # every webhook POST attempt
        self._poll_seq = 0
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._http = requests.Session()

    # -- producing -------------------------------------------------------------------------
    def allowed(self, kind: str) -> bool:
        chosen = self.bot.allowed_updates
        return kind in chosen if chosen else kind not in DEFAULT_EXCLUDED

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update unless the bot's allowed_updates filter it out; returns its id."""
        with self.cond:
            if not self.allowed(kind):
                self.log.append({"update_id": None, "kind": kind, "status": "filtered", "update": {kind: payload}})
                return None
            update = Update(self.next_id, kind, payload, self.state.clock.now())
            self.next_id += 1
            self.pending.append(update)
            self.log.append({"update_id": update.update_id, "kind": kind, "status": "pending",
                             "update": update.to_json()})
            self.cond.notify_all()
            self._ensure_worker()
            return update.update_id

    def _mark(self, update_id: int, status: str) -> None:
        for entry in reversed(self.log):
            if entry["update_id"] == update_id:
                entry["status"] = status
                return

    def _expire(self) -> None:
        horizon = self.state.clock.now() - self.state.settings.update_ttl_seconds
        while self.pending and self.pending[0].created_at < horizon:
            self._mark(self.pending.popleft().update_id, "expired")

    # -- getUpdates ------------------------------------------------------------------------
    def get_updates(self, offset: int, limit: int, timeout: float,
                    allowed_updates: list[str] | None) -> list[dict[str, Any]]:
        with self.cond:
            if self.bot.webhook is not None:
                raise ApiError(409, GETUPDATES_WITH_WEBHOOK)
            if allowed_updates is not None:
                self.bot.allowed_updates = list(allowed_updates)
            self._poll_seq += 1
            me = self._poll_seq
            self.cond.notify_all()  # an older poller now ends with 409
            deadline = time.monotonic() + max(0.0, min(timeout, self.state.settings.long_poll_max_seconds))
            while True:
                self._expire()
                self._confirm(offset)
                batch = list(self.pending)[:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stop.is_set():
                    return [u.to_json() for u in batch]
                self.cond.wait(remaining)
                if self._poll_seq != me:
                    raise ApiError(409, GETUPDATES_TERMINATED)
                if self.bot.webhook is not None:
                    return []

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self.pending and self.pending[0].update_id < offset:
                self._mark(self.pending.popleft().update_id, "confirmed")
        elif offset < 0:
            while len(self.pending) > -offset:
                self._mark(self.pending.popleft().update_id, "confirmed")

    # -- webhook ---------------------------------------------------------------------------
    def drop_pending(self) -> None:
        with self.cond:
            while self.pending:
                self._mark(self.pending.popleft().update_id, "dropped")

    def webhook_changed(self) -> None:
        """Call after setWebhook/deleteWebhook: wakes pollers and starts delivery if needed."""
        with self.cond:
            self.cond.notify_all()
            self._ensure_worker()

    def _ensure_worker(self) -> None:
        if self.bot.webhook and self.pending and not self._stop.is_set() and (
                self._worker is None or not self._worker.is_alive()):
            self._worker = threading.Thread(target=self._run, name=f"tg-webhook-{self.bot.id}", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.cond:
                self._expire()
                hook = self.bot.webhook
                if hook is None or not self.pending:
                    self._worker = None
                    return
                update = self.pending[0]
                url, secret = hook.url, hook.secret_token
            ok, pause, reply = self._post(url, secret, update)
            with self.cond:
                if ok:
                    if self.pending and self.pending[0] is update:
                        self.pending.popleft()
                    self._mark(update.update_id, "delivered")
                else:
                    update.attempts += 1
                    delays = self.state.settings.webhook_retry_delays
                    if update.attempts > len(delays):
                        if self.pending and self.pending[0] is update:
                            self.pending.popleft()
                        self._mark(update.update_id, "dropped")
                        pause = 0.0
                    else:
                        pause = max(delays[update.attempts - 1], pause)
            if reply is not None and self.state.reply_executor is not None:
                self.state.reply_executor(self.bot, reply)
            if pause:
                self._stop.wait(pause)

    def _post(self, url: str, secret: str | None, update: Update) -> tuple[bool, float, dict[str, Any] | None]:
        """One delivery attempt → (delivered, Retry-After pause, method call from the reply body)."""
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update.to_json(), ensure_ascii=False).encode("utf-8")
        attempt: dict[str, Any] = {"update_id": update.update_id, "attempt": update.attempts + 1, "url": url,
                                   "secret_token": secret, "at": self.state.clock.now()}
        pause, reply, error = 0.0, None, None
        try:
            resp = self._http.post(url, data=body, headers=headers,
                                   timeout=self.state.settings.webhook_timeout_seconds)
            attempt["status_code"] = resp.status_code
            if 200 <= resp.status_code < 300:
                reply = _reply_method(resp)
            else:
                error = f"Wrong response from the webhook: {resp.status_code} {resp.reason}"
                retry_after = resp.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    pause = min(float(retry_after), self.state.settings.webhook_max_retry_after)
        except requests.Timeout:
            error = "Read timeout expired"
        except requests.ConnectionError:
            error = "Connection refused"
        except requests.RequestException as exc:
            error = str(exc)
        attempt["ok"], attempt["error"] = error is None, error
        with self.cond:
            self.deliveries.append(attempt)
            if error is not None and self.bot.webhook is not None:
                self.bot.webhook.last_error_date = self.state.clock.unix()
                self.bot.webhook.last_error_message = error
        return error is None, pause, reply

    def close(self) -> None:
        self._stop.set()
        with self.cond:
            self.cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=2)
        self._http.close()


def _reply_method(resp: requests.Response) -> dict[str, Any] | None:
    """A webhook may answer with a method call ({"method": "sendMessage", …}); the server runs it."""
    if "json" not in resp.headers.get("Content-Type", ""):
        return None
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("method"), str) else None

"""One bot's Bot API client: python-telegram-bot on the connector's loop, paced, errors classified.

The worker's threads call the synchronous methods; each runs a coroutine on the LoopThread, where
the PTB `Bot` (and its httpx pool) lives for the connector's whole life. A 429 is honoured here:
the chat is paused for `retry_after` and the same send is made again. What the caller must decide
(a migrated chat, a chat the bot has lost) comes back as exceptions.
"""
from __future__ import annotations

import asyncio
import datetime as dtm
import warnings
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, TypeVar

import telegram
from telegram.error import (BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter,
                            TelegramError)
from telegram.request import HTTPXRequest

from connectors.telegram.pacing import Pacer, TooLong
from connectors.telegram.settings import BotSettings, PacingSettings
from relay.aio import LoopThread
from relay.errors import PermanentError, TransientError, UpstreamUnavailable

T = TypeVar("T")
MAX_429_IN_A_ROW = 5
LOST_CHAT = ("kicked", "not a member", "blocked by the user", "chat was deleted", "user is deactivated")


class ChatLost(PermanentError):
    """The bot can no longer write to the chat (kicked, left, blocked, chat deleted)."""

    def __init__(self, chat_id: int | str, reason: str) -> None:
        super().__init__(f"chat {chat_id}: {reason}")
        self.chat_id, self.reason = chat_id, reason


class TelegramRefused(PermanentError):
    """A 400 the Bot API gave for this call; `description` is its text as Telegram wrote it."""

    def __init__(self, method: str, description: str) -> None:
        super().__init__(f"{method}: {description}")
        self.description = description


@dataclass
class Sent:
    message: telegram.Message
    waited_429: float  # seconds spent honouring 429 retry_after before it went through


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def translate(method: str, chat_id: int | str | None, exc: Exception) -> Exception:
    """PTB's exception → what the worker and the actions understand (ChatMigrated passes through)."""
    if isinstance(exc, (ChatMigrated, PermanentError, TransientError)):
        return exc
    if isinstance(exc, TooLong):
        return TransientError(str(exc), retry_after=exc.seconds)
    if isinstance(exc, RetryAfter):
        return TransientError(f"{method}: Telegram flood control", retry_after=retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        text = str(exc)
        if chat_id is not None and any(marker in text.lower() for marker in LOST_CHAT):
            return ChatLost(chat_id, text)
        return PermanentError(f"{method}: {text}")
    if isinstance(exc, BadRequest):
        return TelegramRefused(method, str(exc))
    if isinstance(exc, (InvalidToken, Conflict)):
        return PermanentError(f"{method}: {type(exc).__name__}: {exc}")
    if isinstance(exc, (NetworkError, asyncio.TimeoutError, OSError)):  # TimedOut and 5xx are NetworkErrors
        return UpstreamUnavailable("Telegram", f"{method}: {type(exc).__name__}: {exc}")
    if isinstance(exc, TelegramError):
        return TransientError(f"{method}: {type(exc).__name__}: {exc}")
    return exc


class BotClient:
    def __init__(self, name: str, settings: BotSettings, pacing: PacingSettings, loop: LoopThread) -> None:
        self.name, self.settings, self.loop = name, settings, loop
        self.pacer = Pacer(pacing)
        api = settings.api_url.rstrip("/")
        t = settings.timeout_seconds
        self.bot = telegram.Bot(settings.token.get_secret_value(), base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                                request=HTTPXRequest(connection_pool_size=64, read_timeout=t, write_timeout=t, connect_timeout=t, pool_timeout=t))
        self._init_lock: asyncio.Lock | None = None

    async def _ready(self) -> telegram.Bot:
        """getMe once, lazily: a relay whose Telegram is unreachable still starts and takes webhooks."""
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            await self.bot.initialize()
        return self.bot

    def _run(self, method: str, chat_id: int | str | None, coro: Awaitable[T]) -> T:
        try:
            return self.loop.run(coro)  # type: ignore[arg-type]
        except Exception as exc:
            raise translate(method, chat_id, exc) from exc

    # --- sending (paced) --------------------------------------------------------------------
    async def _paced(self, chat_id: int | str, call: Callable[[telegram.Bot], Awaitable[T]]) -> tuple[T, float]:
        bot = await self._ready()
        waited = seconds = 0.0
        async with self.pacer.chat_lock(chat_id):
            for _ in range(MAX_429_IN_A_ROW):
                slot = await self.pacer.acquire(chat_id)
                try:
                    return await call(bot), waited
                except RetryAfter as exc:  # not delivered: wait as told, then the same send again
                    seconds = retry_after_seconds(exc)
                    waited += seconds
                    self.pacer.pause(chat_id, seconds)
                finally:
                    await self.pacer.release(slot)
        raise TransientError(f"Telegram answered 429 {MAX_429_IN_A_ROW} times in a row for chat {chat_id}", retry_after=seconds)

    def send_message(self, chat_id: int | str, text: str, parse_mode: str | None = "HTML",
                     reply_markup: telegram.InlineKeyboardMarkup | None = None, reply_to: int | None = None) -> Sent:
        async def call(bot: telegram.Bot) -> telegram.Message:
            return await bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=reply_markup,
                                          reply_parameters=telegram.ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None)
        message, waited = self._run("sendMessage", chat_id, self._paced(chat_id, call))
        return Sent(message, waited)

    # --- not rate-limited by Telegram ---------------------------------------------------------
    async def _plain(self, call: Callable[[telegram.Bot], Awaitable[T]]) -> T:
        return await call(await self._ready())

    def edit_message(self, chat_id: int | str, message_id: int, text: str | None, parse_mode: str | None,
                     reply_markup: telegram.InlineKeyboardMarkup | None) -> Any:
        """Edit text (and keyboard), or only the keyboard when `text` is None; no keyboard removes it."""
        if text is None:
            return self._run("editMessageReplyMarkup", chat_id, self._plain(
                lambda bot: bot.edit_message_reply_markup(chat_id, message_id, reply_markup=reply_markup)))
        return self._run("editMessageText", chat_id, self._plain(
            lambda bot: bot.edit_message_text(text, chat_id, message_id, parse_mode=parse_mode, reply_markup=reply_markup)))

    def answer_callback(self, query_id: str, text: str | None, show_alert: bool = False) -> bool:
        return self._run("answerCallbackQuery", None, self._plain(
            lambda bot: bot.answer_callback_query(query_id, text=text or None, show_alert=show_alert)))

    def member_status(self, chat_id: int | str, user_id: int) -> str | None:
        """The user's status in the chat (creator, administrator, member, …), None if unknown there."""
        try:
            member = self._run("getChatMember", chat_id, self._plain(lambda bot: bot.get_chat_member(chat_id, user_id)))
        except TelegramRefused:
            return None
        return str(member.status)

    def download(self, file_id: str) -> bytes:
        """The bytes of a file users sent (getFile, then the file URL; the Bot API serves up to 20 MB)."""
        async def call(bot: telegram.Bot) -> bytes:
            found = await bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())
        return self._run("getFile", None, self._plain(call))

    def username(self) -> str:
        """The bot's @username (from getMe, cached by PTB)."""
        async def call(bot: telegram.Bot) -> str:
            return bot.username
        return self._run("getMe", None, self._plain(call))

    def close(self) -> None:
        try:
            self.loop.run(self.bot.shutdown(), timeout=5)
        except Exception:  # shutting down: a failed close of the HTTP pool changes nothing
            pass

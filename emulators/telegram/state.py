"""The emulated Telegram world: bots, users, chats, files, callback queries — one lock for all.

Both sides go through here: the Bot API handlers (what the relay does) and the control actions
(what a test does "as a user"). Lookups that the Bot API performs on every write live here too,
because their error texts (chat not found, kicked, blocked, migrated) are the point of the emulator.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from typing import Any, Callable

from .clock import Clock
from .errors import ApiError, bad_request, chat_kind, forbidden, migrated
from .knobs import EmulatorSettings
from .limits import LimitSettings, RateLimiter
from .models import ACTIVE, BotAccount, CallbackQuery, Chat, FileRecord, User
from .updates import UpdateHub

SUPERGROUP_BASE = 1_000_000_000_000


class TelegramState:
    """Everything the emulator remembers; `app.extensions["telegram"]` is one of these."""

    def __init__(self, clock: Clock | None = None, settings: EmulatorSettings | None = None,
                 limits: LimitSettings | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.settings = settings or EmulatorSettings()
        self.limiter = RateLimiter(limits)
        self._initial = (self.settings.model_copy(deep=True), self.limiter.settings.model_copy(deep=True))
        self.seed: dict[str, Any] | None = None
        # set by create_app: runs a method call that a webhook returned in its response body
        self.reply_executor: Callable[[BotAccount, dict[str, Any]], None] | None = None
        self._init_world()

    def _init_world(self) -> None:
        self.bots: dict[str, BotAccount] = {}
        self.hubs: dict[int, UpdateHub] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[tuple[int, int], Chat] = {}  # (owner bot id or 0, chat id)
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.scenarios: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.too_many_requests: dict[int, int] = {}  # bot id -> 429 answers (flood control and scripted)
        self._seq = itertools.count(1)
        self._user_ids = itertools.count(500_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(2_000_000_001)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Stop webhook workers (they are daemon threads, but tests should not leak them)."""
        with self.lock:
            hubs = list(self.hubs.values())
        for hub in hubs:
            hub.close()

    def reset(self) -> None:
        """Forget everything (knobs included), then apply the seed again. The clock is left alone."""
        self.close()
        with self.lock:
            self._init_world()
            self.settings = self._initial[0].model_copy(deep=True)
            self.limiter.configure(self._initial[1].model_copy(deep=True))
            self.limiter.reset()
        if self.seed is not None:
            from .seed import apply_seed  # late: seed builds on this module
            apply_seed(self, self.seed, remember=False)

    # -- registry --------------------------------------------------------------------------
    def add_user(self, user_id: int | None = None, first_name: str = "User", **fields: Any) -> User:
        with self.lock:
            uid = user_id or next(uid for uid in self._user_ids if uid not in self.users)
            user = self.users.get(uid)
            if user is None:
                user = self.users[uid] = User(id=uid, first_name=first_name)
            else:
                user.first_name = first_name or user.first_name
            for key in ("last_name", "username", "language_code", "deactivated"):
                if key in fields and fields[key] is not None:
                    setattr(user, key, fields[key])
            return user

    def add_bot(self, token: str, first_name: str = "Relay", username: str | None = None, **fields: Any) -> BotAccount:
        bot_id = int(token.split(":", 1)[0]) if ":" in token and token.split(":", 1)[0].isdigit() else 0
        if bot_id <= 0:
            raise ValueError(f"a bot token looks like 123456:ABC…, got {token!r}")
        with self.lock:
            user = User(id=bot_id, first_name=first_name, username=username or f"bot{bot_id}_bot", is_bot=True)
            self.users[bot_id] = user
            bot = BotAccount(token=token, user=user)
            for key in ("can_join_groups", "can_read_all_group_messages", "supports_inline_queries"):
                if fields.get(key) is not None:
                    setattr(bot, key, bool(fields[key]))
            old = self.hubs.get(bot_id)
            for stale in [t for t, b in self.bots.items() if b.id == bot_id]:
                del self.bots[stale]  # a re-issued token replaces the old one
            self.bots[token] = bot
            self.hubs[bot_id] = UpdateHub(self, bot)
        if old is not None:
            old.close()  # outside the lock: its worker may be waiting for it
        return bot

    def bot_by_ref(self, ref: str | int | None) -> BotAccount:
        """A bot by token, id or username; the only bot when `ref` is empty."""
        with self.lock:
            if ref in (None, ""):
                if len(self.bots) != 1:
                    raise LookupError("several bots are configured: say which one ('bot')")
                return next(iter(self.bots.values()))
            for bot in self.bots.values():
                if str(ref) in (bot.token, str(bot.id), bot.user.username, f"@{bot.user.username}"):
                    return bot
            raise LookupError(f"no bot {ref!r}")

    def hub(self, bot: BotAccount) -> UpdateHub:
        return self.hubs[bot.id]

    # -- chats -----------------------------------------------------------------------------
    def _unused_chat_id(self, make: Callable[[], int]) -> int:
        with self.lock:
            while (chat_id := make()) and (0, chat_id) in self.chats:
                pass
            return chat_id

    def new_group_id(self) -> int:
        return self._unused_chat_id(lambda: -next(self._group_ids))

    def new_supergroup_id(self) -> int:
        return self._unused_chat_id(lambda: -(SUPERGROUP_BASE + next(self._supergroup_ids)))

    def put_chat(self, chat: Chat) -> Chat:
        with self.lock:
            self.chats[(chat.owner_bot or 0, chat.id)] = chat
            return chat

    def chat_for(self, bot: BotAccount, ref: int | str) -> Chat | None:
        """The chat `ref` as `bot` sees it (private chats are per bot)."""
        with self.lock:
            if isinstance(ref, str):
                name = ref.lstrip("@").lower()
                return next((c for (owner, _), c in self.chats.items()
                             if owner == 0 and (c.username or "").lower() == name), None)
            return self.chats.get((bot.id, ref)) if ref > 0 else self.chats.get((0, ref))

    def find_chat(self, chat_id: int, bot: BotAccount | None = None) -> Chat:
        """For control endpoints: a chat by id; a private one needs its bot when several exist."""
        with self.lock:
            if chat_id < 0:
                chat = self.chats.get((0, chat_id))
            elif bot is not None:
                chat = self.chats.get((bot.id, chat_id))
            else:
                found = [c for (owner, cid), c in self.chats.items() if cid == chat_id and owner]
                if len(found) > 1:
                    raise LookupError(f"chat {chat_id} exists with several bots: say which one ('bot')")
                chat = found[0] if found else None
            if chat is None:
                raise LookupError(f"no chat {chat_id}")
            return chat

    def writable_chat(self, bot: BotAccount, ref: int | str) -> Chat:
        """The chat a bot is about to write to, or the error the real server would give."""
        with self.lock:
            chat = self.chat_for(bot, ref)
            if chat is None:
                raise bad_request("chat not found")
            if chat.type == "private":
                assert chat.peer is not None
                if chat.peer.deactivated:
                    raise forbidden("user is deactivated")
                if chat.blocked:
                    raise forbidden("bot was blocked by the user")
                if not chat.started:
                    raise forbidden("bot can't initiate conversation with a user")
                return chat
            if chat.migrated_to is not None:
                raise migrated(chat.migrated_to)
            if chat.deleted:
                raise forbidden("the group chat was deleted")
            status = chat.status_of(bot.id)
            if status is None:
                raise bad_request("chat not found")
            if status == "kicked":
                raise forbidden(f"bot was kicked from the {chat_kind(chat.type)} chat")
            if status not in ACTIVE:
                raise forbidden(f"bot is not a member of the {chat_kind(chat.type)} chat")
            return chat

    def bots_in(self, chat: Chat) -> list[BotAccount]:
        """Bots that receive updates from `chat`."""
        with self.lock:
            if chat.type == "private":
                return [b for b in self.bots.values() if b.id == chat.owner_bot and not chat.blocked]
            return [b for b in self.bots.values() if chat.status_of(b.id) in ACTIVE]

    # -- files -----------------------------------------------------------------------------
    def store_file(self, data: bytes, kind: str, file_name: str | None = None, mime_type: str | None = None,
                   width: int | None = None, height: int | None = None) -> FileRecord:
        with self.lock:
            n = next(self._seq)
            digest = hashlib.sha256(data + str(n).encode()).digest()
            prefix = {"photos": "AgACAgIAAxkBAAI", "documents": "BQACAgIAAxkBAAI"}.get(kind, "BQACAgIAAxkBAAI")
            file_id = prefix + base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")
            stable = hashlib.sha256(data + f"{kind}{width}x{height}".encode()).digest()[:9]
            unique = "AgAD" + base64.urlsafe_b64encode(stable).decode().rstrip("=")
            ext = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else ""
            ext = ext or ("jpg" if kind == "photos" else "")
            path = f"{kind}/file_{n}" + (f".{ext}" if ext else "")
            record = FileRecord(file_id=file_id, file_unique_id=unique, data=data,
                                file_path=path, file_name=file_name, mime_type=mime_type, width=width, height=height)
            self.files[file_id] = record
            self.files_by_path[path] = record
            return record

    # -- callback queries ------------------------------------------------------------------
    def new_callback(self, **fields: Any) -> CallbackQuery:
        with self.lock:
            n = next(self._seq)
            qid = str(int.from_bytes(hashlib.sha256(f"cq{n}".encode()).digest()[:8], "big"))
            query = CallbackQuery(id=qid, created_at=self.clock.now(), **fields)
            self.callbacks[qid] = query
            return query

    # -- bookkeeping -----------------------------------------------------------------------
    def record_call(self, bot: BotAccount | None, method: str, params: dict[str, Any], error: ApiError | None) -> None:
        with self.lock:
            self.calls.append({"seq": next(self._seq), "at": self.clock.now(), "bot_id": bot.id if bot else None,
                               "method": method, "params": params, "ok": error is None,
                               "error_code": error.code if error else None,
                               "description": error.description if error else None})
            del self.calls[:-2000]

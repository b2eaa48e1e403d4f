"""In-memory records of the emulated Telegram world: users, bots, chats, messages, files, queries.

Plain dataclasses; all mutation happens under `TelegramState.lock`. Rendering to Bot API JSON
lives in `render.py` so the records can stay close to what Telegram itself knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACTIVE = frozenset({"creator", "administrator", "member", "restricted"})
GROUP_TYPES = frozenset({"group", "supergroup"})


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    deactivated: bool = False


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotAccount:
    token: str
    user: User
    can_join_groups: bool = True
    can_read_all_group_messages: bool = True  # BotFather privacy mode off, as the relay needs
    supports_inline_queries: bool = False
    allowed_updates: list[str] | None = None  # None = the default set
    webhook: WebhookConfig | None = None
    commands: list[dict[str, str]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class Message:
    chat_id: int
    message_id: int
    sender: User
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    caption: str | None = None
    caption_entities: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    service: dict[str, Any] = field(default_factory=dict)
    sent_by_bot: int | None = None      # bot id when a bot sent it through the API
    parse_mode: str | None = None       # what the bot asked for
    source: str | None = None           # text/caption exactly as the bot submitted it (before parsing)
    deleted: bool = False
    deleted_by: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first

    def content_key(self) -> tuple[Any, ...]:
        """What 'message is not modified' compares."""
        return (self.text, self.entities or [], self.caption, self.caption_entities or [], self.reply_markup)

    def snapshot(self) -> dict[str, Any]:
        return {"text": self.text, "entities": self.entities, "caption": self.caption,
                "caption_entities": self.caption_entities, "reply_markup": self.reply_markup,
                "parse_mode": self.parse_mode, "source": self.source, "edit_date": self.edit_date}


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    peer: User | None = None            # the user of a private chat
    owner_bot: int | None = None        # private chats exist per (bot, user)
    members: dict[int, str] = field(default_factory=dict)  # user id (bots too) -> status
    admin_rights: dict[int, dict[str, bool]] = field(default_factory=dict)
    all_members_are_administrators: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    deleted: bool = False
    blocked: bool = False               # private: the user blocked the bot
    started: bool = True                # private: the user has pressed Start
    description: str | None = None
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1

    def status_of(self, user_id: int) -> str | None:
        return self.members.get(user_id)

    def allocate_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class CallbackQuery:
    id: str
    bot_id: int
    sender: User
    chat_id: int
    message_id: int
    data: str | None
    created_at: float
    answer: dict[str, Any] | None = None
    answered_at: float | None = None


@dataclass
class Update:
    update_id: int
    kind: str
    payload: dict[str, Any]
    created_at: float
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}

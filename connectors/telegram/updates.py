"""What a Telegram Update means to the relay: its event kind, the chat it belongs to, its command.

Shared by the intake (kind and entity key, decided before anything is stored) and by the worker
(the template context), so both read an update the same way. Parsing goes through PTB's
`Update.de_json`, which knows every shape the Bot API sends and ignores fields it does not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import telegram

IN_CHAT = {"creator", "administrator", "member", "restricted"}
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+(.*))?$", re.S)


def chat_key(chat_id: int | str) -> str:
    """Entity key of a chat: its events are processed one at a time, in order."""
    return f"telegram:chat:{chat_id}"


@dataclass(frozen=True)
class Command:
    name: str       # lower-case, without "/" and "@bot"
    to: str         # the @username it was addressed to, "" if none
    args: str       # everything after the command, stripped

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "to": self.to, "args": self.args, "argv": self.args.split()}


def parse_command(message: telegram.Message | None) -> Command | None:
    """`/bind@relay_bot 123` → Command("bind", "relay_bot", "123"): a bot_command entity at offset 0."""
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != "bot_command" or first.offset != 0:
        return None
    match = _COMMAND.match(message.text.strip())
    if not match:
        return None
    return Command(match.group(1).lower(), match.group(2) or "", (match.group(3) or "").strip())


def _has_content(message: telegram.Message) -> bool:
    return bool(message.text or message.caption or message.effective_attachment)


def member_change(update: telegram.Update) -> str:
    """`bot.added`, `bot.removed` or `bot.changed` (e.g. promoted to admin) from my_chat_member."""
    change = update.my_chat_member
    assert change is not None
    was_in, is_in = change.old_chat_member.status in IN_CHAT, change.new_chat_member.status in IN_CHAT
    if is_in and not was_in:
        return "bot.added"
    if was_in and not is_in:
        return "bot.removed"
    return "bot.changed"


def classify(update: telegram.Update) -> tuple[str, int | None] | None:
    """(kind, chat id) of an update, or None for updates the relay has no use for.

    Service messages are dropped except a group's upgrade (`migrate_to_chat_id`, sent in the old
    group); the new supergroup's twin message (`migrate_from_chat_id`) would only repeat it.
    """
    if update.callback_query is not None:
        query = update.callback_query
        return "callback.pressed", query.message.chat.id if query.message is not None else None
    if update.my_chat_member is not None:
        return member_change(update), update.my_chat_member.chat.id
    if update.edited_message is not None:
        return "message.edited", update.edited_message.chat.id
    message = update.message
    if message is None:
        return None
    if message.migrate_to_chat_id:
        return "chat.migrated", message.chat.id
    if not _has_content(message):
        return None
    command = parse_command(message)
    return (f"command.{command.name}" if command else "message.new"), message.chat.id

"""Bot API JSON for the records in `models.py`, with Telegram's field names and shapes.

Key order follows what the official server emits (message_id, from, chat, date, …) so that
JSON captured from the emulator reads like JSON captured from Telegram.
"""
from __future__ import annotations

from typing import Any, Callable

from .models import BotAccount, Chat, Message, User

ADMIN_RIGHTS = ("can_be_edited", "can_manage_chat", "can_change_info", "can_delete_messages", "can_invite_users",
                "can_restrict_members", "can_pin_messages", "can_manage_topics", "can_promote_members",
                "can_manage_video_chats", "can_post_stories", "can_edit_stories", "can_delete_stories")


def user_json(user: User) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    for key in ("last_name", "username", "language_code"):
        if getattr(user, key):
            out[key] = getattr(user, key)
    return out


def me_json(bot: BotAccount) -> dict[str, Any]:
    out = user_json(bot.user)
    out.update(can_join_groups=bot.can_join_groups, can_read_all_group_messages=bot.can_read_all_group_messages,
               supports_inline_queries=bot.supports_inline_queries, can_connect_to_business=False,
               has_main_web_app=False)
    return out


def chat_json(chat: Chat) -> dict[str, Any]:
    """The short Chat object that messages and updates carry."""
    if chat.type == "private" and chat.peer is not None:
        out: dict[str, Any] = {"id": chat.id, "first_name": chat.peer.first_name}
        if chat.peer.last_name:
            out["last_name"] = chat.peer.last_name
        if chat.peer.username:
            out["username"] = chat.peer.username
        out["type"] = "private"
        return out
    out = {"id": chat.id, "title": chat.title or ""}
    if chat.username and chat.type != "group":
        out["username"] = chat.username
    out["type"] = chat.type
    if chat.type == "group":
        out["all_members_are_administrators"] = chat.all_members_are_administrators
    return out


def chat_full_json(chat: Chat) -> dict[str, Any]:
    """ChatFullInfo for getChat (the fields PTB 22 requires are always present)."""
    out = chat_json(chat)
    out.pop("all_members_are_administrators", None)
    out.update(accent_color_id=0, max_reaction_count=11,
               accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                    "premium_subscription": False, "gifts_from_channels": False})
    if chat.description:
        out["description"] = chat.description
    if chat.migrated_from is not None:
        out["migrated_from_chat_id"] = chat.migrated_from  # undocumented but emitted by the server
    return out


def message_json(msg: Message, chat: Chat, lookup: Callable[[int], Message | None] | None = None,
                 depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"message_id": msg.message_id, "from": user_json(msg.sender), "chat": chat_json(chat),
                           "date": msg.date}
    if msg.edit_date is not None:
        out["edit_date"] = msg.edit_date
    if msg.reply_to is not None and depth == 0 and lookup is not None:
        target = lookup(msg.reply_to)
        if target is not None and not target.deleted:
            out["reply_to_message"] = message_json(target, chat, lookup, depth + 1)
    if msg.text is not None:
        out["text"] = msg.text
        if msg.entities:
            out["entities"] = msg.entities
    if msg.document is not None:
        out["document"] = msg.document
    if msg.photo is not None:
        out["photo"] = msg.photo
    if msg.caption is not None:
        out["caption"] = msg.caption
        if msg.caption_entities:
            out["caption_entities"] = msg.caption_entities
    if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
        out["reply_markup"] = msg.reply_markup  # only inline keyboards are echoed back
    out.update(msg.service)
    return out


def member_json(user: User, status: str, rights: dict[str, bool] | None = None) -> dict[str, Any]:
    """ChatMember in the shape of its status (PTB requires every can_* field of an administrator)."""
    out: dict[str, Any] = {"user": user_json(user), "status": status}
    if status == "creator":
        out["is_anonymous"] = False
    elif status == "administrator":
        out["can_be_edited"] = False
        out["is_anonymous"] = False
        for right in ADMIN_RIGHTS[1:]:
            out[right] = (rights or {}).get(right, True)
    elif status == "kicked":
        out["until_date"] = 0
    return out


def sent_record(msg: Message, chat: Chat) -> dict[str, Any]:
    """What the test-facing 'what did this chat receive' endpoints show for one message."""
    return {"message_id": msg.message_id, "chat_id": chat.id, "date": msg.date, "from": user_json(msg.sender),
            "sent_by_bot": msg.sent_by_bot, "text": msg.text, "caption": msg.caption, "entities": msg.entities,
            "caption_entities": msg.caption_entities, "parse_mode": msg.parse_mode, "source": msg.source,
            "reply_markup": msg.reply_markup, "reply_to_message_id": msg.reply_to, "document": msg.document,
            "photo": msg.photo, "service": msg.service or None, "edit_date": msg.edit_date,
            "edits": list(msg.history), "deleted": msg.deleted, "deleted_by": msg.deleted_by}

"""What a test can do "as a user": post, edit, delete, press a button, add/remove the bot, block it,
upgrade a group. Each action changes the world and queues the updates Telegram would send.

Deletion by a user queues nothing: the Bot API has no update for it (only the emulator records it).
"""
from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from .content import detect_entities
from .media import document_json, image_size, photo_json
from .models import ACTIVE, GROUP_TYPES, BotAccount, Chat, Message, User
from .render import chat_json, member_json, message_json, user_json
from .world import ControlError

if TYPE_CHECKING:
    from .state import TelegramState


def _sees(bot: BotAccount, chat: Chat, msg: Message) -> bool:
    """Privacy mode: without it a bot in a group gets only commands, replies to it and mentions."""
    if bot.can_read_all_group_messages or chat.type not in GROUP_TYPES or msg.service:
        return True
    if chat.status_of(bot.id) in ("administrator", "creator"):
        return True
    text = msg.text or msg.caption or ""
    replied = chat.messages.get(msg.reply_to) if msg.reply_to else None
    return (text.startswith("/") or f"@{bot.user.username}".lower() in text.lower()
            or (replied is not None and replied.sent_by_bot == bot.id))


def _deliver(state: "TelegramState", chat: Chat, msg: Message, kind: str = "message") -> list[dict[str, Any]]:
    out = []
    for bot in state.bots_in(chat):
        if _sees(bot, chat, msg):
            update_id = state.hub(bot).enqueue(kind, message_json(msg, chat, chat.messages.get))
            out.append({"bot_id": bot.id, "bot": bot.user.username, "update_id": update_id})
    return out


def _require_member(chat: Chat, user: User) -> None:
    if chat.type == "private":
        if chat.peer is None or chat.peer.id != user.id:
            raise ControlError(f"user {user.id} is not the user of private chat {chat.id}")
        if chat.blocked:
            raise ControlError("the user has blocked the bot; unblock first")
    elif chat.status_of(user.id) not in ACTIVE:
        raise ControlError(f"user {user.id} is not a member of chat {chat.id}")
    if chat.migrated_to is not None:
        raise ControlError(f"chat {chat.id} was upgraded to {chat.migrated_to}; post there")


def _blob(spec: dict[str, Any]) -> bytes:
    if "content_base64" in spec:
        return base64.b64decode(spec["content_base64"])
    return str(spec.get("content_text", "")).encode("utf-8")


def _message(state: "TelegramState", chat: Chat, sender: User, **fields: Any) -> Message:
    msg = Message(chat_id=chat.id, message_id=chat.allocate_message_id(), sender=sender, date=state.clock.unix(),
                  **fields)
    chat.messages[msg.message_id] = msg
    return msg


def post_message(state: "TelegramState", chat: Chat, sender: User, spec: dict[str, Any]) -> dict[str, Any]:
    """A user's message: text, or a document/photo with an optional caption; maybe a reply."""
    with state.lock:
        _require_member(chat, sender)
        fields: dict[str, Any] = {}
        text, caption = spec.get("text"), spec.get("caption")
        if text is not None:
            fields.update(text=text, entities=spec.get("entities") or detect_entities(text, []) or None)
        if spec.get("document") is not None:
            doc = spec["document"]
            record = state.store_file(_blob(doc), "documents", doc.get("file_name"), doc.get("mime_type"))
            fields["document"] = document_json(record)
        if spec.get("photo") is not None:
            data = _blob(spec["photo"])
            size = image_size(data)
            if size is None:
                raise ControlError("photo content must be a PNG, GIF or JPEG")
            fields["photo"] = photo_json(state, state.store_file(data, "photos", width=size[0], height=size[1]))
        if caption is not None and ("document" in fields or "photo" in fields):
            fields.update(caption=caption,
                          caption_entities=spec.get("caption_entities") or detect_entities(caption, []) or None)
        if not fields:
            raise ControlError("a message needs text, document or photo")
        reply_to = spec.get("reply_to_message_id")
        if reply_to is not None and int(reply_to) not in chat.messages:
            raise ControlError(f"no message {reply_to} in chat {chat.id}", 404)
        if chat.type == "private":
            chat.started = True  # writing to a bot lets it write back
        msg = _message(state, chat, sender, reply_to=int(reply_to) if reply_to else None, **fields)
        return {"message_id": msg.message_id, "chat_id": chat.id, "updates": _deliver(state, chat, msg)}


def _users_message(chat: Chat, message_id: int) -> Message:
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ControlError(f"no message {message_id} in chat {chat.id}", 404)
    return msg


def edit_message(state: "TelegramState", chat: Chat, message_id: int, spec: dict[str, Any]) -> dict[str, Any]:
    """The author edits text or caption → edited_message."""
    with state.lock:
        msg = _users_message(chat, message_id)
        if msg.sent_by_bot is not None:
            raise ControlError("that message was sent by a bot; users edit their own messages")
        msg.history.append(msg.snapshot())
        if "text" in spec:
            if msg.text is None:
                raise ControlError("the message has no text; edit its caption")
            msg.text = spec["text"]
            msg.entities = spec.get("entities") or detect_entities(msg.text, []) or None
        if "caption" in spec:
            msg.caption = spec["caption"]
            msg.caption_entities = spec.get("caption_entities") or detect_entities(msg.caption, []) or None
        msg.edit_date = state.clock.unix()
        return {"message_id": msg.message_id, "chat_id": chat.id,
                "updates": _deliver(state, chat, msg, "edited_message")}


def delete_message(state: "TelegramState", chat: Chat, message_id: int, by: User | None) -> dict[str, Any]:
    """Recorded only: Telegram tells bots nothing when a user deletes a message."""
    with state.lock:
        msg = _users_message(chat, message_id)
        msg.deleted, msg.deleted_by = True, f"user {by.id}" if by else "user"
        return {"message_id": message_id, "chat_id": chat.id, "deleted": True, "updates": []}


def chat_instance(chat: Chat) -> str:
    return str(int.from_bytes(hashlib.sha256(f"ci{chat.id}".encode()).digest()[:8], "big", signed=True))


def press_button(state: "TelegramState", chat: Chat, message_id: int, sender: User,
                 spec: dict[str, Any]) -> dict[str, Any]:
    """Press an inline button under a bot's message → callback_query to that bot."""
    with state.lock:
        _require_member(chat, sender)
        msg = _users_message(chat, message_id)
        rows = (msg.reply_markup or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row]
        if "data" in spec:
            matches = [b for b in buttons if b.get("callback_data") == spec["data"]]
        elif "text" in spec:
            matches = [b for b in buttons if b.get("text") == spec["text"]]
        else:
            matches = [b for b in buttons if "callback_data" in b]
        if msg.sent_by_bot is None or not matches:
            raise ControlError(f"message {message_id} has no such inline button")
        if "callback_data" not in matches[0]:
            raise ControlError("that button has no callback_data (url buttons send no update)")
        bot = next(b for b in state.bots.values() if b.id == msg.sent_by_bot)
        data = matches[0]["callback_data"]
        query = state.new_callback(bot_id=bot.id, sender=sender, chat_id=chat.id, message_id=message_id, data=data)
        payload = {"id": query.id, "from": user_json(sender), "message": message_json(msg, chat, chat.messages.get),
                   "chat_instance": chat_instance(chat), "data": data}
        update_id = state.hub(bot).enqueue("callback_query", payload)
        return {"callback_query_id": query.id, "update_id": update_id, "data": data}


def set_member(state: "TelegramState", chat: Chat, user: User, status: str, by: User,
               rights: dict[str, bool] | None = None) -> dict[str, Any]:
    """Add, remove, promote or ban someone; for a bot that is my_chat_member plus the service message."""
    with state.lock:
        if chat.type == "private":
            raise ControlError("private chats have fixed members; use block/unblock")
        old = chat.status_of(user.id) or "left"
        chat.members[user.id] = status
        if rights is not None:
            chat.admin_rights[user.id] = rights
        updates: list[dict[str, Any]] = []
        bot = next((b for b in state.bots.values() if b.id == user.id), None)
        if bot is not None and old != status:
            payload = {"chat": chat_json(chat), "from": user_json(by), "date": state.clock.unix(),
                       "old_chat_member": member_json(user, old, None),
                       "new_chat_member": member_json(user, status, chat.admin_rights.get(user.id))}
            updates.append({"bot_id": bot.id, "bot": bot.user.username,
                            "update_id": state.hub(bot).enqueue("my_chat_member", payload)})
        service: dict[str, Any] = {}
        if old not in ACTIVE and status in ACTIVE:
            u = user_json(user)
            service = {"new_chat_participant": u, "new_chat_member": u, "new_chat_members": [u]}
        elif old in ACTIVE and status not in ACTIVE:
            service = {"left_chat_participant": user_json(user), "left_chat_member": user_json(user)}
        if service:
            msg = _message(state, chat, by, service=service)
            updates += _deliver(state, chat, msg)
        return {"chat_id": chat.id, "user_id": user.id, "old_status": old, "new_status": status, "updates": updates}


def set_blocked(state: "TelegramState", chat: Chat, blocked: bool) -> dict[str, Any]:
    """The user blocks (or unblocks) the bot in their private chat → my_chat_member kicked/member."""
    with state.lock:
        if chat.type != "private" or chat.peer is None:
            raise ControlError("only a private chat's user can block a bot")
        bot = next(b for b in state.bots.values() if b.id == chat.owner_bot)
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        chat.blocked = blocked
        payload = {"chat": chat_json(chat), "from": user_json(chat.peer), "date": state.clock.unix(),
                   "old_chat_member": member_json(bot.user, old), "new_chat_member": member_json(bot.user, new)}
        update_id = state.hub(bot).enqueue("my_chat_member", payload)
        return {"chat_id": chat.id, "blocked": blocked, "updates": [{"bot_id": bot.id, "update_id": update_id}]}


def migrate(state: "TelegramState", chat: Chat, by: User) -> dict[str, Any]:
    """Upgrade a basic group: service messages in both chats; the old id then answers 'upgraded'."""
    with state.lock:
        if chat.type != "group" or chat.migrated_to is not None:
            raise ControlError("only a basic group that was not upgraded yet can be upgraded")
        new = Chat(id=state.new_supergroup_id(), type="supergroup", title=chat.title, description=chat.description,
                   members=dict(chat.members), admin_rights=dict(chat.admin_rights), migrated_from=chat.id)
        state.put_chat(new)
        chat.migrated_to = new.id
        updates = _deliver(state, chat, _message(state, chat, by, service={"migrate_to_chat_id": new.id}))
        updates += _deliver(state, new, _message(state, new, by, service={"migrate_from_chat_id": chat.id}))
        return {"old_chat_id": chat.id, "new_chat_id": new.id, "chat": chat_json(new), "updates": updates}

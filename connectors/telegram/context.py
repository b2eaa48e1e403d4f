"""The template context of a Telegram event: `message`, `chat`, `callback`, `command`, `member`,
`migration`, `bot`, `binding` — plain dicts, so rules read `{{ message.author.name }}` and a
change in PTB's classes never changes what admins wrote.
"""
from __future__ import annotations

import html as html_lib
from typing import Any

import telegram

from connectors.telegram.updates import member_change, parse_command


def person(user: telegram.User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.full_name, "first_name": user.first_name, "last_name": user.last_name or "",
            "username": user.username or "", "is_bot": user.is_bot}


def chat_info(chat: telegram.Chat) -> dict[str, Any]:
    name = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p) or str(chat.id)
    return {"id": chat.id, "type": str(chat.type), "title": chat.title or name, "name": name, "username": chat.username or ""}


def files(message: telegram.Message) -> list[dict[str, Any]]:
    """Attachments as `{file_id, name, kind, mime_type, size}`; photos as their largest size."""
    out: list[dict[str, Any]] = []
    if message.photo:
        p = message.photo[-1]
        out.append({"kind": "photo", "file_id": p.file_id, "file_unique_id": p.file_unique_id,
                    "name": f"photo_{message.message_id}.jpg", "mime_type": "image/jpeg", "size": p.file_size})
    for kind in ("document", "video", "audio", "voice", "animation", "video_note", "sticker"):
        f = getattr(message, kind, None)
        if f is not None:
            out.append({"kind": kind, "file_id": f.file_id, "file_unique_id": f.file_unique_id,
                        "name": getattr(f, "file_name", None) or f"{kind}_{message.message_id}",
                        "mime_type": getattr(f, "mime_type", None) or "", "size": f.file_size})
    return out


def message_info(message: telegram.Message) -> dict[str, Any]:
    text = message.text or message.caption or ""
    try:  # the message's own formatting as Telegram HTML, user text escaped: safe to send on
        html = message.text_html if message.text else (message.caption_html if message.caption else "")
    except Exception:  # PTB needs a bot for some entity types (custom emoji); the escaped text will do
        html = html_lib.escape(text, quote=False)
    return {"id": message.message_id, "text": text, "html": html, "caption": message.caption or "",
            "author": person(message.from_user), "date": message.date.isoformat() if message.date else "",
            "date_unix": int(message.date.timestamp()) if message.date else 0,
            "edited": message.edit_date is not None, "files": files(message),
            "reply_to": message.reply_to_message.message_id if message.reply_to_message else None}


def build(payload: dict[str, Any], bot: dict[str, Any]) -> dict[str, Any]:
    """Context for an event stored by TelegramSource (`payload = {"bot": name, "update": {...}}`), or
    for the `bot.removed` the connector reports when a send finds the bot gone (`payload["lost"]`)."""
    if "lost" in payload:
        lost = payload["lost"]
        chat = {"id": lost["chat"]["id"], "type": "", "title": lost["chat"]["title"], "name": lost["chat"]["title"], "username": ""}
        return {"bot": bot, "telegram": {"update_id": None}, "message": None, "chat": chat, "callback": None, "command": None,
                "migration": None, "member": {"change": "removed", "status": "", "old_status": "", "by": "", "by_user": None,
                                              "reason": lost["reason"]}}
    update = telegram.Update.de_json(payload["update"], None)
    ctx: dict[str, Any] = {"bot": bot, "telegram": {"update_id": update.update_id}, "message": None, "chat": None,
                           "callback": None, "command": None, "member": None, "migration": None}
    message = update.message or update.edited_message
    if message is not None:
        ctx["message"], ctx["chat"] = message_info(message), chat_info(message.chat)
        command = parse_command(message) if update.message is not None else None
        ctx["command"] = command.as_dict() if command else None
        if message.migrate_to_chat_id:
            ctx["migration"] = {"from": message.chat.id, "to": message.migrate_to_chat_id}
    if update.callback_query is not None:
        q = update.callback_query
        shown = q.message if isinstance(q.message, telegram.Message) else None
        ctx["callback"] = {"id": q.id, "data": q.data or "", "from": person(q.from_user), "user": person(q.from_user),
                           "message_id": q.message.message_id if q.message else None,
                           "message_text": (shown.text or shown.caption or "") if shown else ""}
        if q.message is not None:
            ctx["chat"] = chat_info(q.message.chat)
    if update.my_chat_member is not None:
        change = update.my_chat_member
        ctx["chat"] = chat_info(change.chat)
        by = change.from_user
        ctx["member"] = {"change": member_change(update).split(".", 1)[1], "status": str(change.new_chat_member.status),
                         "old_status": str(change.old_chat_member.status), "by": by.full_name if by else "", "by_user": person(by),
                         "reason": ""}
    return ctx

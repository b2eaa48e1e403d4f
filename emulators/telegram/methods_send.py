"""Bot API methods that write into chats: send, edit, delete, answer callback queries.

Each handler validates in the order the real server does where it matters for the error text
(parameters and markup first, then the chat and its access rules, then flood control) and stores
what was sent so tests can read it back through /_emulator.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors as E
from .content import formatted, reply_markup, reply_target
from .media import document_json, input_file, photo_json
from .models import GROUP_TYPES, BotAccount, Chat, Message
from .params import Params, chat_id_value, require_message_id
from .render import message_json

if TYPE_CHECKING:
    from .state import TelegramState


def render(state: "TelegramState", chat: Chat, msg: Message) -> dict[str, Any]:
    return message_json(msg, chat, chat.messages.get)


def _store(state: "TelegramState", bot: BotAccount, chat: Chat, p: Params, **content: Any) -> dict[str, Any]:
    """Reply check, flood control, then the message itself."""
    reply_to, allow_without = reply_target(p)
    with state.lock:
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None or target.deleted:
                if not allow_without:
                    raise E.bad_request(E.REPLY_NOT_FOUND)
                reply_to = None
        now = state.clock.now()
        state.limiter.check_and_record(bot.id, chat.id, chat.type in GROUP_TYPES, now)
        msg = Message(chat_id=chat.id, message_id=chat.allocate_message_id(), sender=bot.user, date=int(now),
                      reply_to=reply_to, sent_by_bot=bot.id, **content)
        chat.messages[msg.message_id] = msg
        return render(state, chat, msg)


def send_message(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    ref = chat_id_value(p)
    text, entities, mode, source = formatted(p, "text", "entities", "parse_mode", required=True, limit=4096)
    markup = reply_markup(p)
    chat = state.writable_chat(bot, ref)
    return _store(state, bot, chat, p, text=text, entities=entities, reply_markup=markup, parse_mode=mode,
                  source=source)


def _send_media(state: "TelegramState", bot: BotAccount, p: Params, field: str, kind: str) -> dict[str, Any]:
    ref = chat_id_value(p)
    caption, entities, mode, source = formatted(p, "caption", "caption_entities", "parse_mode", required=False,
                                                limit=1024)
    markup = reply_markup(p)
    chat = state.writable_chat(bot, ref)
    record = input_file(state, p, field, kind)
    media: dict[str, Any] = ({"document": document_json(record)} if kind == "documents"
                             else {"photo": photo_json(state, record)})
    return _store(state, bot, chat, p, caption=caption, caption_entities=entities, reply_markup=markup,
                  parse_mode=mode, source=source, **media)


def send_document(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    return _send_media(state, bot, p, "document", "documents")


def send_photo(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    return _send_media(state, bot, p, "photo", "photos")


def _own_message(state: "TelegramState", bot: BotAccount, p: Params) -> tuple[Chat, Message]:
    if p.has("inline_message_id"):
        raise E.bad_request("MESSAGE_ID_INVALID")  # inline-mode messages are not emulated
    chat = state.writable_chat(bot, chat_id_value(p))
    message_id = require_message_id(p)
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise E.bad_request(E.MESSAGE_TO_EDIT_NOT_FOUND)
    if msg.sent_by_bot != bot.id:
        raise E.bad_request(E.MESSAGE_CANT_BE_EDITED)
    return chat, msg


def _apply_edit(state: "TelegramState", chat: Chat, msg: Message, **changes: Any) -> dict[str, Any]:
    before = msg.content_key()
    snapshot = msg.snapshot()
    for key, value in changes.items():
        setattr(msg, key, value)
    if msg.content_key() == before:
        for key in changes:
            setattr(msg, key, snapshot[key])
        raise E.bad_request(E.NOT_MODIFIED)
    msg.history.append(snapshot)
    msg.edit_date = state.clock.unix()
    return render(state, chat, msg)


def edit_message_text(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    text, entities, mode, source = formatted(p, "text", "entities", "parse_mode", required=True, limit=4096)
    markup = reply_markup(p)  # omitted → the keyboard goes away, as on Telegram
    with state.lock:
        chat, msg = _own_message(state, bot, p)
        if msg.text is None:
            raise E.bad_request(E.NO_TEXT_TO_EDIT)
        return _apply_edit(state, chat, msg, text=text, entities=entities, reply_markup=markup, parse_mode=mode,
                           source=source)


def edit_message_reply_markup(state: "TelegramState", bot: BotAccount, p: Params) -> dict[str, Any]:
    markup = reply_markup(p)
    with state.lock:
        chat, msg = _own_message(state, bot, p)
        return _apply_edit(state, chat, msg, reply_markup=markup)


def delete_message(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    with state.lock:
        chat = state.writable_chat(bot, chat_id_value(p))
        msg = chat.messages.get(require_message_id(p))
        if msg is None or msg.deleted:
            raise E.bad_request(E.MESSAGE_TO_DELETE_NOT_FOUND)
        too_old = state.clock.now() - msg.date > state.settings.bot_delete_window_seconds
        rights = chat.admin_rights.get(bot.id, {})
        may_moderate = chat.type == "private" or (
            chat.status_of(bot.id) in ("administrator", "creator") and rights.get("can_delete_messages", True))
        if too_old or (msg.sent_by_bot != bot.id and not may_moderate):
            raise E.bad_request(E.MESSAGE_CANT_BE_DELETED)
        msg.deleted, msg.deleted_by = True, f"bot {bot.id}"
        return True


def answer_callback_query(state: "TelegramState", bot: BotAccount, p: Params) -> bool:
    query_id = p.get_str("callback_query_id") or ""
    with state.lock:
        query = state.callbacks.get(query_id)
        fresh = query is not None and state.clock.now() - query.created_at <= state.settings.callback_answer_seconds
        if query is None or query.bot_id != bot.id or query.answer is not None or not fresh:
            raise E.bad_request(E.QUERY_TOO_OLD)
        query.answer = {"text": p.get_str("text"), "show_alert": p.get_bool("show_alert"), "url": p.get_str("url"),
                        "cache_time": p.get_int("cache_time", 0)}
        query.answered_at = state.clock.now()
        return True


HANDLERS = {
    "sendmessage": send_message,
    "senddocument": send_document,
    "sendphoto": send_photo,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "answercallbackquery": answer_callback_query,
}

"""Sending and editing messages: `send_message`, `edit_message`.

Every write goes through ctx.effect, keyed by rule, event and action (and the chat), so a retried
or replayed event does not send again. The one exception is a send interrupted after Telegram took
it and before the relay recorded it (a crash, a lost answer): the Bot API cannot be asked "did this
arrive?", so that send is repeated. See docs/telegram.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import telegram
from pydantic import Field, model_validator

from connectors.telegram.client import ChatLost, TelegramRefused
from connectors.telegram.updates import chat_key
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.effects import Written
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

if TYPE_CHECKING:
    from connectors.telegram.connector import TelegramConnector


class Button(Params):
    text: TemplateStr = Field(description="the button's label")
    data: TemplateStr | None = Field(None, description="callback data (1–64 bytes), arrives as `callback.data` of a `callback.pressed` event")
    url: TemplateStr | None = Field(None, description="a link button instead")

    @model_validator(mode="after")
    def _one_kind(self) -> "Button":
        if (self.data is None) == (self.url is None):
            raise ValueError("a button needs exactly one of `data` or `url`")
        return self


def keyboard(ctx: ActionContext, rows: list[list[Button]]) -> telegram.InlineKeyboardMarkup | None:
    """Inline keyboard from button rows (templates rendered); None when there are no buttons."""
    out = []
    for row in rows:
        buttons = []
        for b in row:
            data = ctx.render(b.data) if b.data is not None else None
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise PermanentError(f"button {b.text!r}: callback data must be 1–64 bytes, got {len(data.encode())}: {data!r}")
            buttons.append(telegram.InlineKeyboardButton(ctx.render(b.text), callback_data=data,
                                                         url=ctx.render(b.url) if b.url is not None else None))
        if buttons:
            out.append(buttons)
    return telegram.InlineKeyboardMarkup(out) if out else None


def connector(ctx: ActionContext) -> "TelegramConnector":
    return ctx.connector("telegram")


def chat_ref(tg: "TelegramConnector", bot: str, text: str) -> int | str:
    """A rendered chat: `staff`, a numeric id, or a public `@username`."""
    text = text.strip()
    if text == "staff":
        staff = tg.settings.bots[bot].staff_chat_id
        if staff is None:
            raise PermanentError(f"chat: staff, but connectors.telegram.bots.{bot}.staff_chat_id is not set")
        return staff
    try:
        return int(text)
    except ValueError:
        if text.startswith("@") and len(text) > 1:
            return text
        raise PermanentError(f"chat {text!r} is neither a chat id, `staff`, nor an @username") from None


def targets(ctx: ActionContext, tg: "TelegramConnector", bot: str, chat: str | None) -> list[int | str]:
    """The named chat; else the event's own chat (Telegram events); else the chats bound to the event's entity."""
    if chat is not None:
        return [chat_ref(tg, bot, ctx.render(chat))]
    if ctx.event.entity_key.startswith("telegram:chat:"):
        return [int(ctx.event.entity_key.rsplit(":", 1)[1])]
    return tg.bound_chats(ctx.event.entity_key)


def chat_lost(ctx: ActionContext, tg: "TelegramConnector", bot: str, exc: ChatLost) -> None:
    """Trace it, and report the loss once as a `bot.removed` event (the staff alert acts on that)."""
    chat = ctx.context.get("chat") or {}
    title = chat.get("title", "") if str(chat.get("id")) == str(exc.chat_id) else ""
    ctx.trace("telegram.chat-lost", f"bot {bot} cannot write to chat {exc.chat_id}: {exc.reason}; nothing sent",
              chat=exc.chat_id)
    if tg.lost(bot, exc.chat_id, exc.reason, ctx.event, ctx.key(str(exc.chat_id)), title):
        ctx.trace("telegram.chat-lost", f"reported as a bot.removed event for chat {exc.chat_id}")


class SendMessageParams(Params):
    bot: str | None = Field(None, description="bot name; default: the bot the event came through, or the only bot")
    chat: TemplateStr | None = Field(None, description="chat id, `@username` or `staff`; default: the event's chat, or the chats bound to the event's entity (bind_chat)")
    text: TemplateStr | None = Field(None, description="message text (template); in HTML mode escape user content: `{{ message.text | e }}`")
    mapping: MappingName | None = Field(None, description="instead of `text`: a mapping whose `templates` hold the text")
    template: str | None = Field(None, description="with `mapping`: the template's name")
    parse_mode: Literal["HTML", "MarkdownV2", "none"] = Field("HTML", description="how Telegram reads the text")
    buttons: list[list[Button]] = Field(default_factory=list, description="inline keyboard: rows of {text, data} or {text, url}")
    reply: bool = Field(False, description="reply to the triggering message (Telegram message events)")

    @model_validator(mode="after")
    def _one_text(self) -> "SendMessageParams":
        if (self.text is None) == (self.mapping is None):
            raise ValueError("give exactly one of `text` or `mapping` (+ `template`)")
        if (self.mapping is None) != (self.template is None):
            raise ValueError("`mapping` and `template` go together")
        return self


def _text(ctx: ActionContext, p: SendMessageParams) -> str:
    if p.text is not None:
        return str(ctx.render(p.text))
    templates = ctx.mapping(str(p.mapping)).templates
    if p.template not in templates:
        raise PermanentError(f"mapping {p.mapping!r} has no template {p.template!r} (has: {', '.join(sorted(templates)) or 'none'})")
    return str(ctx.render(templates[str(p.template)]))


@action("send_message", SendMessageParams)
def send_message(ctx: ActionContext, p: SendMessageParams) -> None:
    """Send a message (HTML, optional inline buttons) once per rule and event; the message id is the effect's external id."""
    tg = connector(ctx)
    bot = tg.bot_name(p.bot, ctx.event)
    text = _text(ctx, p)
    if not text.strip():
        ctx.trace("telegram.skip", "the text is empty; nothing sent")
        return
    markup = keyboard(ctx, p.buttons)
    message = ctx.context.get("message") if ctx.event.source == "telegram" else None
    chats = targets(ctx, tg, bot, p.chat)
    if not chats:
        ctx.trace("telegram.skip", f"no chat is bound to {ctx.event.entity_key}; nothing sent")
        return
    for chat in chats:
        reply_to = message["id"] if p.reply and message and str(chat) == str(ctx.context["chat"]["id"]) else None
        send_one(ctx, tg, bot, chat, text, markup, None if p.parse_mode == "none" else p.parse_mode, reply_to)


def send_one(ctx: ActionContext, tg: "TelegramConnector", bot: str, chat: int | str, text: str,
              markup: telegram.InlineKeyboardMarkup | None, parse_mode: str | None, reply_to: int | None) -> None:
    def do() -> Written:
        sent, final = tg.send(bot, chat, text, note=lambda m: ctx.trace("telegram.migrated", m),
                              parse_mode=parse_mode, reply_markup=markup, reply_to=reply_to)
        if sent.waited_429:
            ctx.trace("telegram.429", f"Telegram asked to wait {sent.waited_429:g}s (429); waited and sent once")
        return Written(str(sent.message.message_id), {"chat_id": final, "message_id": sent.message.message_id})

    try:
        outcome = ctx.effect(do, suffix=str(chat), target=chat_key(chat),
                             describe={"bot": bot, "chat": chat, "text": text, "buttons": markup.to_dict() if markup else None})
    except ChatLost as exc:
        chat_lost(ctx, tg, bot, exc)
        return
    ctx.context["sent"] = {"chat_id": outcome.data.get("chat_id", chat), "message_id": outcome.external_id}


class EditMessageParams(Params):
    bot: str | None = Field(None, description="bot name; default: the event's bot, or the only bot")
    chat: TemplateStr | None = Field(None, description="chat id; default: the event's chat")
    message_id: TemplateStr | None = Field(None, description="message to edit; default: the message whose button was pressed")
    text: TemplateStr | None = Field(None, description="new text (template); omitted: the text stays, only the buttons change")
    parse_mode: Literal["HTML", "MarkdownV2", "none"] = "HTML"
    buttons: list[list[Button]] = Field(default_factory=list, description="the new inline keyboard; empty: the buttons are removed")


@action("edit_message", EditMessageParams)
def edit_message(ctx: ActionContext, p: EditMessageParams) -> None:
    """Edit a message the bot sent: new text and/or buttons (e.g. remove the buttons after a click); once per rule and event."""
    tg = connector(ctx)
    bot = tg.bot_name(p.bot, ctx.event)
    callback, chat_info = ctx.context.get("callback") or {}, ctx.context.get("chat") or {}
    chat_text = ctx.render(p.chat) if p.chat is not None else str(chat_info.get("id", ""))
    mid_text = ctx.render(p.message_id) if p.message_id is not None else str(callback.get("message_id") or "")
    if not chat_text or not mid_text.strip().isdigit():
        raise PermanentError("edit_message needs `chat` and `message_id` (they default only on callback.pressed events)")
    chat, message_id = tg.resolve(chat_ref(tg, bot, chat_text)), int(mid_text)
    text = ctx.render(p.text) if p.text is not None else None
    markup = keyboard(ctx, p.buttons)
    parse_mode = None if p.parse_mode == "none" else p.parse_mode

    def do() -> str:
        try:
            tg.client(bot).edit_message(chat, message_id, text, parse_mode, markup)
        except TelegramRefused as exc:
            if "not modified" not in exc.description.lower():
                raise
            ctx.trace("telegram.edit", f"message {message_id} already shows this; nothing to change")
        return str(message_id)

    try:
        ctx.effect(do, target=chat_key(chat), describe={"bot": bot, "chat": chat, "message_id": message_id, "text": text,
                                                         "buttons": markup.to_dict() if markup else None})
    except ChatLost as exc:
        chat_lost(ctx, tg, bot, exc)
    except TelegramRefused as exc:
        gone = ("message to edit not found", "message can't be edited")
        if not any(g in exc.description.lower() for g in gone):
            raise
        ctx.trace("telegram.edit", f"message {message_id} in chat {chat} cannot be edited any more: {exc.description}")

"""Answering button presses and binding chats: `answer_callback`, `bind_chat`."""
from __future__ import annotations

from pydantic import Field

from connectors.telegram.actions import send_one, connector
from connectors.telegram.client import TelegramRefused
from connectors.telegram.updates import chat_key
from relay.actions.context import ActionContext, Halt
from relay.actions.params import Params
from relay.effects import Written
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr


class AnswerCallbackParams(Params):
    bot: str | None = Field(None, description="bot name; default: the bot the press came through")
    text: TemplateStr = Field("", description="short notice shown to the user who pressed (≤ 200 characters); empty: just stop the spinner")
    alert: bool = Field(False, description="show the text as a dialog instead of a toast")
    once: bool = Field(True, description="only the first press of a button (message + data) counts: later presses get `repeat_text` "
                                         "and stop this event's remaining actions and rules")
    repeat_text: TemplateStr = Field("Уже сделано — повторное нажатие ничего не меняет.", description="answer to a repeated press")


@action("answer_callback", AnswerCallbackParams)
def answer_callback(ctx: ActionContext, p: AnswerCallbackParams) -> Halt | None:
    """Answer a button press (once per press). Put it first in the rule: with `once`, a double click is answered politely and changes nothing twice."""
    callback, chat = ctx.context.get("callback"), ctx.context.get("chat") or {}
    if not callback:
        raise PermanentError("answer_callback works on `callback.pressed` events only")
    tg = connector(ctx)
    bot = tg.bot_name(p.bot, ctx.event)
    if ctx.dry_run:
        ctx.effect(lambda: None, describe={"answer": ctx.render(p.text), "once": p.once})
        return None
    first, owner = True, ctx.event.idem_key
    if p.once:
        # The button's first press claims it, for good; a later press (another event) finds the claim.
        button = f"telegram-press|{ctx.rule.id}|{bot}|{chat.get('id')}|{callback['message_id']}|{callback['data']}"
        claim = ctx.runtime.effects.run(button[:200], "telegram_press", lambda: Written(ctx.event.idem_key),
                                        event_id=ctx.event.id, target=chat_key(chat.get("id", "")))
        owner = claim.external_id or owner
        first = owner == ctx.event.idem_key
    text = ctx.render(p.text if first else p.repeat_text)

    def do() -> str:
        tg.client(bot).answer_callback(callback["id"], text[:200], p.alert)
        return str(callback["id"])

    try:
        ctx.effect(do, target=chat_key(chat.get("id", "")), describe={"callback": callback["id"], "text": text})
    except TelegramRefused as exc:
        if "query is too old" not in exc.description.lower():
            raise
        ctx.trace("telegram.callback", f"too late to answer press {callback['id']} (Telegram: {exc.description}); carrying on")
    if not first:
        return Halt(f"repeated press of button {callback['data']!r} on message {callback['message_id']} (first handled by {owner})")
    return None


class BindChatParams(Params):
    bot: str | None = Field(None, description="bot name; default: the bot the command came through")
    entity: TemplateStr = Field(description="entity key the chat is bound to, e.g. `planfix:task:{{ command.args }}`")
    staff_only: bool = Field(True, description="only staff (staff_user_ids, or members of the staff chat) may bind")
    reply: TemplateStr = Field("✅ Чат привязан: {{ entity | e }}", description="answer in the chat (HTML); `entity` is the bound key")
    refused: TemplateStr = Field("Привязать чат может только сотрудник.", description="answer to someone who is not staff")
    usage: TemplateStr = Field("Укажите номер: <code>/{{ command.name }} 123</code>", description="answer to the command without arguments")


@action("bind_chat", BindChatParams)
def bind_chat(ctx: ActionContext, p: BindChatParams) -> None:
    """Bind the chat to an entity (from a `/bind 123` command by staff): later events of that entity reach this chat by send_message without `chat`."""
    tg = connector(ctx)
    bot = tg.bot_name(p.bot, ctx.event)
    chat, message, command = ctx.context.get("chat"), ctx.context.get("message"), ctx.context.get("command")
    if not chat or not message:
        raise PermanentError("bind_chat works on Telegram message and command events only")
    author = message.get("author") or {}
    if command is not None and not command["args"]:
        answer = ctx.render(p.usage)
    elif p.staff_only and not (author.get("id") and tg.is_staff(bot, int(author["id"]))):
        ctx.trace("telegram.bind", f"{author.get('name')} ({author.get('id')}) is not staff; chat {chat['id']} not bound")
        answer = ctx.render(p.refused)
    else:
        entity = str(ctx.render(p.entity)).strip()
        target = tg.resolve(chat["id"])
        if not ctx.dry_run:
            tg.bind(target, entity, {"bot": bot, "by": author.get("id"), "title": chat.get("title")})
            ctx.trace("telegram.bind", f"chat {target} ({chat.get('title')}) bound to {entity}", chat=target, entity=entity)
        answer = ctx.render(p.reply, entity=entity)
    send_one(ctx, tg, bot, chat["id"], answer, None, "HTML", message["id"])

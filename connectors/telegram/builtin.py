"""Rules the Telegram connector adds by itself: follow group upgrades, track the bot's membership,
alert the staff chat once when the bot is removed from a chat.

They are ordinary rules (visible in every trace as `telegram.builtin.*`), so the staff alert goes
through the same effects and retries as anything an admin writes, and admin rules on `bot.removed`
(e.g. a comment in the bound task) run beside them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.telegram.client import ChatLost
from connectors.telegram.updates import chat_key
from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.engine.model import ActionCall, Rule, When
from relay.registry import action

if TYPE_CHECKING:
    from connectors.telegram.connector import TelegramConnector
    from relay.runtime import Runtime

BUILTIN = (("telegram.builtin.membership", "bot.*"), ("telegram.builtin.migration", "chat.migrated"))


class TrackParams(Params):
    pass


@action("telegram_track", TrackParams)
def telegram_track(ctx: ActionContext, p: TrackParams) -> None:
    """Built in (the Telegram connector adds it to `bot.*` and `chat.migrated` events by itself): records
    group upgrades and the bot's removals in Links, and alerts the bot's staff chat once per removal."""
    tg: "TelegramConnector" = ctx.connector("telegram")
    bot, kind, chat = str(ctx.event.payload["bot"]), ctx.event.kind, ctx.context["chat"]
    if kind == "chat.migrated":
        migration = ctx.context["migration"]
        tg.migrated(migration["from"], migration["to"])
        ctx.trace("telegram.migrated", f"chat {migration['from']} is now supergroup {migration['to']}")
    elif kind == "bot.added":
        tg.forget_removal(bot, chat["id"])
    elif kind == "bot.removed":
        _removed(ctx, tg, bot, chat)


def _removed(ctx: ActionContext, tg: "TelegramConnector", bot: str, chat: dict[str, Any]) -> None:
    if not tg.claim_removal(bot, chat["id"], ctx.event.idem_key):
        ctx.trace("telegram.removed", f"removal from chat {chat['id']} was already reported; no second alert")
        return
    settings = tg.settings.bots[bot]
    ctx.trace("telegram.removed", f"bot {bot} was removed from chat {chat['id']} ({chat['title']})")
    if settings.staff_chat_id is None or not settings.removed_alert:
        return
    text = ctx.render(settings.removed_alert)
    staff = settings.staff_chat_id

    def do() -> str:
        sent, _ = tg.send(bot, staff, text, note=lambda m: ctx.trace("telegram.migrated", m))
        return str(sent.message.message_id)

    try:
        ctx.effect(do, target=chat_key(staff), describe={"chat": staff, "text": text})
    except ChatLost as exc:
        ctx.trace("telegram.alert-failed", f"could not alert the staff chat: {exc.reason}")


def install(runtime: "Runtime") -> None:
    """Put the built-in rules first, so an admin rule that halts cannot skip them."""
    existing = {rule.id for rule in runtime.engine.rules}
    for position, (rule_id, kind) in enumerate(BUILTIN):
        if rule_id in existing:
            continue
        rule = Rule(id=rule_id, description="built in by connectors/telegram", when=When(source="telegram", kind=kind),
                    do=[{"telegram_track": {}}], file="connectors/telegram/builtin.py", position=position)
        rule.actions.append(ActionCall(name="telegram_track", params=TrackParams()))
        runtime.engine.rules.insert(position, rule)

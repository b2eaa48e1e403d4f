"""The live Telegram connector: bots, their webhook source, the template context, and the durable
facts about chats kept in Links (upgrades to supergroups, chat ↔ entity bindings, lost chats)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from telegram.error import ChatMigrated

from connectors.telegram import builtin
from connectors.telegram.client import BotClient, Sent
from connectors.telegram.context import build
from connectors.telegram.settings import TelegramSettings
from connectors.telegram.source import TelegramSource
from connectors.telegram.updates import IN_CHAT, chat_key
from relay.aio import LoopThread
from relay.errors import PermanentError
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.telegram")

MIGRATED = "telegram.migrated"  # old chat id → the supergroup it became
BINDING = "telegram.binding"    # chat id → entity key (e.g. planfix:task:123)
REMOVED = "telegram.removed"    # "<bot>:<chat id>" → idem key of the event that reported the loss


class TelegramConnector:
    name = "telegram"

    def __init__(self, settings: TelegramSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.loop = LoopThread("telegram")
        self.clients = {name: BotClient(name, bot, settings.pacing, self.loop) for name, bot in settings.bots.items()}
        builtin.install(runtime)

    def sources(self) -> dict[str, TelegramSource]:
        return {"telegram": TelegramSource(self.settings)}

    # --- which bot --------------------------------------------------------------------------
    def bot_name(self, requested: str | None, event: Claimed) -> str:
        """The named bot; else the bot the event came through; else the only bot configured."""
        if requested:
            if requested not in self.clients:
                raise PermanentError(f"no Telegram bot named {requested!r} (configured: {', '.join(sorted(self.clients))})")
            return requested
        if event.source == self.name and event.payload.get("bot") in self.clients:
            return str(event.payload["bot"])
        if len(self.clients) == 1:
            return next(iter(self.clients))
        raise PermanentError(f"several Telegram bots are configured ({', '.join(sorted(self.clients))}); say which one with `bot:`")

    def client(self, bot: str) -> BotClient:
        return self.clients[bot]

    def bot_info(self, bot: str) -> dict[str, Any]:
        return {"name": bot, "staff_chat_id": self.settings.bots[bot].staff_chat_id}

    # --- context for rules ------------------------------------------------------------------
    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        bot = str(event.payload.get("bot", ""))
        if bot not in self.clients:
            self.runtime.tracer.add(event.id, "telegram", f"bot {bot!r} is no longer configured; event ignored")
            return None
        ctx = build(event.payload, self.bot_info(bot))
        command = ctx["command"]
        if command and command["to"] and command["to"].lower() != self.client(bot).username().lower():
            self.runtime.tracer.add(event.id, "telegram", f"/{command['name']} is addressed to @{command['to']}, not to this bot")
            return None
        chat = ctx["chat"]
        ctx["binding"] = self.runtime.links.get(BINDING, str(self.resolve(chat["id"]))) if chat else None
        return ctx

    # --- chats: migration, bindings, loss ------------------------------------------------------
    def resolve(self, chat_id: int | str) -> int | str:
        """The chat's current id: a group upgraded to a supergroup is written to at its new id."""
        current: int | str = chat_id
        for _ in range(5):  # a chain longer than one upgrade does not happen; five guards against loops
            newer = self.runtime.links.get(MIGRATED, str(current))
            if newer is None:
                break
            current = int(newer)
        return current

    def migrated(self, old: int | str, new: int | str) -> None:
        """Remember old → new, and move the old chat's binding along."""
        links = self.runtime.links
        links.set(MIGRATED, str(old), str(new))
        bound = links.get(BINDING, str(old))
        if bound is not None:
            if links.get(BINDING, str(new)) is None:
                links.set(BINDING, str(new), bound, {"migrated_from": str(old)})
            links.delete(BINDING, str(old))
        log.info("telegram chat %s was upgraded to %s", old, new)

    def bind(self, chat_id: int | str, entity: str, data: dict[str, Any]) -> None:
        """Chat → entity (one entity per chat; binding again moves it)."""
        self.runtime.links.set(BINDING, str(chat_id), entity, data)

    def bound_chats(self, entity_key: str) -> list[int | str]:
        return [self.resolve(int(key)) for key in self.runtime.links.keys_for(BINDING, entity_key)]

    def is_staff(self, bot: str, user_id: int) -> bool:
        """Listed in staff_user_ids; or, if none are listed, a member of the bot's staff chat."""
        settings = self.settings.bots[bot]
        if settings.staff_user_ids:
            return user_id in settings.staff_user_ids
        if settings.staff_chat_id is None:
            return False
        return self.client(bot).member_status(self.resolve(settings.staff_chat_id), user_id) in IN_CHAT

    # --- sending ------------------------------------------------------------------------------
    def send(self, bot: str, chat_id: int | str, text: str, note: Callable[[str], None], **kwargs: Any) -> tuple[Sent, int | str]:
        """Send into the chat's current id, following an upgrade Telegram reports on the way."""
        target = self.resolve(chat_id)
        for _ in range(3):
            try:
                return self.client(bot).send_message(target, text, **kwargs), target
            except ChatMigrated as exc:
                note(f"chat {target} was upgraded to supergroup {exc.new_chat_id}; sending there from now on")
                self.migrated(target, exc.new_chat_id)
                target = exc.new_chat_id
        raise PermanentError(f"chat {chat_id}: Telegram kept reporting upgrades")

    def claim_removal(self, bot: str, chat_id: int | str, idem: str) -> bool:
        """True if the event `idem` is the first report of the bot's removal from the chat."""
        links, removal = self.runtime.links, f"{bot}:{chat_id}"
        owner = links.get(REMOVED, removal)
        if owner is None:
            links.set(REMOVED, removal, idem)
            return True
        return owner == idem

    def forget_removal(self, bot: str, chat_id: int | str) -> None:
        """The bot is back in the chat: the next removal is news again."""
        self.runtime.links.delete(REMOVED, f"{bot}:{chat_id}")

    def lost(self, bot: str, chat_id: int | str, reason: str, event: Claimed, key: str, title: str = "") -> bool:
        """A send found the bot removed: report it once as a `bot.removed` event (rules and the staff
        alert act on it). False if the loss was already known (no second report)."""
        links, removal = self.runtime.links, f"{bot}:{chat_id}"
        if links.get(REMOVED, removal) is not None:
            return False
        idem = f"{bot}:lost:{chat_id}:{key}"[:255]
        links.set(REMOVED, removal, idem, {"reason": reason})
        payload = {"bot": bot, "lost": {"chat": {"id": chat_id, "title": title or str(chat_id)}, "reason": reason,
                                        "found_by_event": event.id}}
        self.runtime.inbox.add(self.name, [IncomingEvent("bot.removed", chat_key(chat_id), payload, idem)])
        return True

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.loop.close()

"""Chats that change under the relay: a group upgraded to a supergroup, a bot removed from a chat."""
from __future__ import annotations

from relay.worker import Worker
from tests.connectors.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_GROUP, CLIENT_SG, DMITRY, SERGEY, STAFF, Emu,
                                                    Relay, _emulator, emu, relay)

__all__ = ["_emulator", "emu", "relay"]


def _send_calls(emu: Emu, chat_id: int) -> list[dict]:
    return [c for c in emu.get("calls", method="sendMessage") if str(c["params"].get("chat_id")) == str(chat_id)]


def test_a_reply_to_an_upgraded_group_lands_in_the_supergroup(relay: Relay, emu: Emu) -> None:
    emu.say(CLIENT_GROUP, DMITRY, "/bind 7")
    relay.work()
    assert emu.texts(CLIENT_GROUP) == ["✅ Чат привязан: shop:order:7"]
    # A client writes; before the relay answers, the group is upgraded (its reply hits the old id).
    emu.say(CLIENT_GROUP, SERGEY, "Есть новости?")
    new_id = emu.post(f"chats/{CLIENT_GROUP}/migrate", by=DMITRY)["new_chat_id"]
    relay.work()
    assert emu.texts(new_id) == ["Принято: Есть новости?"]
    assert emu.texts(CLIENT_GROUP) == ["✅ Чат привязан: shop:order:7"]
    links = relay.runtime.links
    assert links.get("telegram.migrated", str(CLIENT_GROUP)) == str(new_id)
    assert links.get("telegram.binding", str(new_id)) == "shop:order:7"
    assert links.get("telegram.binding", str(CLIENT_GROUP)) is None
    assert any("upgraded to supergroup" in m for m in relay.steps("telegram.migrated"))
    # From now on: the bound entity, and sends naming the old id, go straight to the new id.
    refused_before = len([c for c in _send_calls(emu, CLIENT_GROUP) if not c["ok"]])
    relay.shop(type="notify", entity="order:7", id="n7", text="Счёт выставлен")
    relay.shop(type="direct", entity="d1", id="d1", chat=str(CLIENT_GROUP), text="По старому адресу")
    Worker(relay.runtime).run_once()
    assert emu.texts(new_id) == ["Принято: Есть новости?", "Счёт выставлен", "По старому адресу"]
    assert len([c for c in _send_calls(emu, CLIENT_GROUP) if not c["ok"]]) == refused_before == 1


def test_migration_update_alone_moves_the_chat(relay: Relay, emu: Emu) -> None:
    new_id = emu.post(f"chats/{CLIENT_GROUP}/migrate", by=DMITRY)["new_chat_id"]
    relay.work()
    assert relay.runtime.links.get("telegram.migrated", str(CLIENT_GROUP)) == str(new_id)
    relay.shop(type="direct", entity="d2", id="d2", chat=str(CLIENT_GROUP), text="Сразу туда")
    Worker(relay.runtime).run_once()
    assert emu.texts(new_id) == ["Сразу туда"]
    assert _send_calls(emu, CLIENT_GROUP) == []


def test_bot_kicked_alerts_the_staff_chat_once(relay: Relay, emu: Emu) -> None:
    emu.post(f"chats/{CLIENT_SG}/members", bot=BOT_ID, status="kicked", by=ANNA)
    relay.work()
    alerts = [t for t in emu.texts(STAFF) if "Бот удалён" in t]
    assert alerts == ["⚠️ Бот удалён из чата «ООО «Ромашка» ↔ Поддержка» (-1001000000002), удалил Анна Смирнова. "
                      "Сообщения в этот чат больше не доставляются."]
    assert any("bot left -1001000000002 (kicked)" in m for m in relay.steps("note"))
    # A later send into that chat fails: traced, not alerted again.
    relay.shop(type="direct", entity="d3", id="d3", chat=str(CLIENT_SG), text="не дойдёт")
    Worker(relay.runtime).run_once()
    assert any("bot was kicked" in m for m in relay.steps("telegram.chat-lost"))
    assert len([t for t in emu.texts(STAFF) if "Бот удалён" in t]) == 1
    assert relay.runtime.inbox.depth() == {"done": 2}
    # Back in the chat: the next removal is news again.
    emu.post(f"chats/{CLIENT_SG}/members", bot=BOT_ID, status="member", by=ANNA)
    emu.post(f"chats/{CLIENT_SG}/members", bot=BOT_ID, status="left", by=ANNA)
    relay.work()
    assert len([t for t in emu.texts(STAFF) if "Бот удалён" in t]) == 2


def test_a_send_that_finds_the_bot_gone_reports_it_once(relay: Relay, emu: Emu) -> None:
    """The kick's update was missed; the first failing send reports it (event + staff alert)."""
    emu.post("scenarios", method="sendMessage", chat_id=CLIENT_SG, times=0, error_code=403,
             description="Forbidden: bot was kicked from the supergroup chat")
    relay.shop(type="direct", entity="d4", id="d4", chat=str(CLIENT_SG), text="первое")
    relay.shop(type="direct", entity="d5", id="d5", chat=str(CLIENT_SG), text="второе")
    Worker(relay.runtime).run_once()
    assert [t for t in emu.texts(STAFF) if "Бот удалён" in t] == [
        "⚠️ Бот удалён из чата «-1001000000002» (-1001000000002). Сообщения в этот чат больше не доставляются."]
    assert len([m for m in relay.steps("telegram.chat-lost") if "nothing sent" in m]) == 2
    assert any("Forbidden: bot was kicked from the supergroup chat" in m for m in relay.steps("note"))
    assert relay.runtime.inbox.depth() == {"done": 3}

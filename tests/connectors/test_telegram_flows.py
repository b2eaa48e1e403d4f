"""End to end against the Telegram emulator: a user writes or presses, the relay answers, once."""
from __future__ import annotations

from sqlalchemy import select

from relay.inbox import Claimed
from relay.store.schema import Effect, InboxEvent
from relay.worker import Worker
from tests.connectors.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_SG, OLGA, SECRET, STAFF, Emu, Relay, _emulator, emu, relay,
                                                    wait_for)

__all__ = ["_emulator", "emu", "relay"]
NEWCOMER = {"id": 200000009, "first_name": "Новый"}


def test_a_message_gets_exactly_one_reply(relay: Relay, emu: Emu) -> None:
    said = emu.say(CLIENT_SG, OLGA, "Когда доставка? <скоро?>")
    assert relay.work() == 1
    sent = emu.sent(CLIENT_SG)
    assert [m["text"] for m in sent] == ["Принято: Когда доставка? <скоро?>"]
    assert sent[0]["parse_mode"] == "HTML" and sent[0]["reply_to_message_id"] == said["message_id"]
    # the same update again (Telegram redelivers after a lost answer), a replay, another worker pass
    update = emu.get(f"bots/{BOT_ID}/updates")[0]["update"]
    resp = relay.http.post(relay.hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert resp.json() == {"accepted": 0, "duplicates": 1}
    relay.runtime.inbox.replay([1])
    Worker(relay.runtime).run_once()
    assert emu.texts(CLIENT_SG) == ["Принято: Когда доставка? <скоро?>"]
    with relay.runtime.store.session() as s:  # the message id is the effect's external id
        assert [(e.status, e.external_id) for e in s.scalars(select(Effect))] == [("done", str(sent[0]["message_id"]))]


def test_a_double_press_is_answered_politely_and_changes_nothing_twice(relay: Relay, emu: Emu) -> None:
    emu.say(STAFF, ANNA, "/task Принтер сломался")
    relay.work()
    card = emu.sent(STAFF)[0]
    assert card["text"] == "Задача: Принтер сломался"
    assert card["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("done:")
    first = emu.post(f"chats/{STAFF}/messages/{card['message_id']}/press", **{"from": ANNA})
    second = emu.post(f"chats/{STAFF}/messages/{card['message_id']}/press", **{"from": ANNA})
    relay.work()
    assert emu.get(f"callbacks/{first['callback_query_id']}")["answer"]["text"] == "Отмечено"
    assert "ничего не меняет" in emu.get(f"callbacks/{second['callback_query_id']}")["answer"]["text"]
    texts = emu.texts(STAFF)
    assert texts.count("Задача закрыта: Анна Смирнова") == 1
    card = next(m for m in emu.sent(STAFF) if m["message_id"] == card["message_id"])
    assert not card.get("reply_markup") and len(card["edits"]) == 1
    assert any("repeated press" in m for m in relay.steps("halt"))
    # processing the second press again (a replay) still changes nothing
    relay.runtime.inbox.replay([3])
    Worker(relay.runtime).run_once()
    assert emu.texts(STAFF).count("Задача закрыта: Анна Смирнова") == 1


def test_bind_by_staff_routes_entity_events_to_the_chat(relay: Relay, emu: Emu) -> None:
    emu.say(CLIENT_SG, OLGA, "/bind 41")          # a client: refused
    emu.say(STAFF, ANNA, "/bind")                 # staff, no number: usage
    emu.say(CLIENT_SG, ANNA, "/bind 42")          # staff (a member of the staff chat): bound
    relay.work()
    assert emu.texts(CLIENT_SG) == ["Привязать чат может только сотрудник.", "✅ Чат привязан: shop:order:42"]
    assert emu.texts(STAFF) == ["Укажите номер: /bind 123"]
    assert relay.runtime.links.get("telegram.binding", str(STAFF)) is None
    assert relay.runtime.links.get("telegram.binding", str(CLIENT_SG)) == "shop:order:42"
    relay.shop(type="notify", entity="order:42", id="n1", text="Заказ 42 отгружен")
    relay.shop(type="notify", entity="order:41", id="n2", text="никуда")
    Worker(relay.runtime).run_once()
    assert emu.texts(CLIENT_SG)[-1] == "Заказ 42 отгружен"
    assert any("no chat is bound to shop:order:41" in m for m in relay.steps("telegram.skip"))


def test_context_carries_author_and_files(relay: Relay, emu: Emu) -> None:
    emu.post(f"chats/{CLIENT_SG}/messages", **{"from": OLGA, "caption": "счёт", "document": {
        "file_name": "invoice.pdf", "mime_type": "application/pdf", "content_text": "%PDF-1.4"}})
    emu.say(CLIENT_SG, OLGA, "/files a b")
    relay.work()
    texts = emu.texts(CLIENT_SG)
    assert texts == ["Принято: счёт", "Ольга Кузнецова @olga_romashka: a,b"]
    ctx = relay.runtime.connector("telegram").prepare(_claimed(relay, 1))
    assert ctx is not None
    assert ctx["message"]["files"][0]["name"] == "invoice.pdf" and ctx["message"]["files"][0]["file_id"]
    assert ctx["chat"] == {"id": CLIENT_SG, "type": "supergroup", "title": "ООО «Ромашка» ↔ Поддержка",
                           "name": "ООО «Ромашка» ↔ Поддержка", "username": ""}
    assert ctx["bot"] == {"name": "main", "staff_chat_id": STAFF}


def _claimed(relay: Relay, event_id: int) -> Claimed:
    with relay.runtime.store.session() as s:
        row = s.get(InboxEvent, event_id)
        assert row is not None
        return Claimed(row.id, row.source, row.kind, row.entity_key, row.idem_key, row.payload, row.attempts, row.received_at)


def test_edited_messages_and_service_messages(relay: Relay, emu: Emu) -> None:
    said = emu.say(CLIENT_SG, OLGA, "первый вариант")
    emu.post(f"chats/{CLIENT_SG}/messages/{said['message_id']}/edit", text="второй вариант")
    emu.post(f"chats/{CLIENT_SG}/members", user=NEWCOMER, status="member")   # service message: not stored
    wait_for(emu.delivered)
    with relay.runtime.store.session() as s:
        kinds = [(e.kind, e.entity_key) for e in s.scalars(select(InboxEvent).order_by(InboxEvent.id))]
    assert kinds == [("message.new", f"telegram:chat:{CLIENT_SG}"), ("message.edited", f"telegram:chat:{CLIENT_SG}")]

"""POST /hooks/telegram/<bot>: the secret header, malformed bodies, what an update becomes."""
from __future__ import annotations

import json

import pytest

from connectors.telegram.settings import TelegramSettings
from connectors.telegram.source import TelegramSource
from relay.intake.base import InboundRequest, Rejected
from tests.connectors.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_SG, SECRET, STAFF, Emu, Relay, _emulator, emu,
                                                    relay, wait_for)

__all__ = ["_emulator", "emu", "relay"]
HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE = {"update_id": 5, "message": {"message_id": 1, "date": 1714557840, "text": "hi",
                                      "chat": {"id": -100123, "type": "supergroup", "title": "T"},
                                      "from": {"id": 1, "is_bot": False, "first_name": "A"}}}


@pytest.mark.parametrize("headers, body, status, reason", [
    ({}, UPDATE, 401, "is missing"),
    ({HEADER: "wrong-secret"}, UPDATE, 403, "does not match"),
    ({HEADER: SECRET + "x"}, UPDATE, 403, "does not match"),
    ({HEADER: SECRET}, "{not json", 400, "not JSON"),
    ({HEADER: SECRET}, [1, 2], 400, "not an object"),
    ({HEADER: SECRET}, {"message": {}}, 422, "update_id"),
])
def test_refused_requests_store_nothing(relay: Relay, headers: dict, body: object, status: int, reason: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    resp = relay.http.post(relay.hook, data=data, headers={"Content-Type": "application/json", **headers})
    assert resp.status_code == status and reason in resp.json()["reason"]
    assert SECRET not in resp.text
    assert relay.runtime.inbox.depth() == {}


def test_unknown_bot_is_404(relay: Relay) -> None:
    resp = relay.http.post(relay.hook.replace("/main", "/other"), json=UPDATE, headers={HEADER: SECRET})
    assert resp.status_code == 404 and relay.runtime.inbox.depth() == {}


def test_webhook_with_the_wrong_secret_is_refused_and_nothing_stored(relay: Relay, emu: Emu) -> None:
    emu.set_webhook(relay.hook, secret="not-the-configured-one")
    emu.say(STAFF, ANNA, "кто здесь?")
    deliveries = wait_for(lambda: emu.get(f"bots/{BOT_ID}/deliveries"))
    assert deliveries[0]["status_code"] == 403
    assert relay.runtime.inbox.depth() == {}


def _accept(update: dict) -> list:
    settings = TelegramSettings.model_validate({"bots": {"main": {"token": "1:x", "secret_token": "s3cret"}}})
    request = InboundRequest("telegram", "main", "POST", {HEADER.lower(): "s3cret"}, json.dumps(update).encode())
    return TelegramSource(settings).accept(request)


def _message(**fields: object) -> dict:
    base = {"message_id": 9, "date": 1714557840, "chat": {"id": -100123, "type": "supergroup", "title": "T"},
            "from": {"id": 1, "is_bot": False, "first_name": "A"}}
    return {**base, **fields}


@pytest.mark.parametrize("update, kind", [
    ({"message": _message(text="hello")}, "message.new"),
    ({"edited_message": _message(text="hello!", edit_date=1714557900)}, "message.edited"),
    ({"message": _message(text="/Bind@crm_relay_demo_bot 12", entities=[{"type": "bot_command", "offset": 0, "length": 22}])}, "command.bind"),
    ({"message": _message(text="/ not a command")}, "message.new"),
    ({"message": _message(caption="scan", document={"file_id": "F1", "file_unique_id": "U1", "file_name": "a.pdf"})}, "message.new"),
    ({"message": _message(migrate_to_chat_id=-100999)}, "chat.migrated"),
    ({"callback_query": {"id": "q1", "from": {"id": 1, "is_bot": False, "first_name": "A"}, "chat_instance": "1", "data": "d",
                         "message": _message(text="card")}}, "callback.pressed"),
    ({"my_chat_member": {"chat": {"id": -100123, "type": "supergroup", "title": "T"}, "from": {"id": 1, "is_bot": False, "first_name": "A"},
                         "date": 1, "old_chat_member": {"status": "member", "user": {"id": 7, "is_bot": True, "first_name": "B"}},
                         "new_chat_member": {"status": "kicked", "until_date": 0, "user": {"id": 7, "is_bot": True, "first_name": "B"}}}},
     "bot.removed"),
    ({"my_chat_member": {"chat": {"id": -100123, "type": "supergroup", "title": "T"}, "from": {"id": 1, "is_bot": False, "first_name": "A"},
                         "date": 1, "old_chat_member": {"status": "left", "user": {"id": 7, "is_bot": True, "first_name": "B"}},
                         "new_chat_member": {"status": "member", "user": {"id": 7, "is_bot": True, "first_name": "B"}}}},
     "bot.added"),
])
def test_what_an_update_becomes(update: dict, kind: str) -> None:
    events = _accept({"update_id": 77, **update})
    assert [(e.kind, e.entity_key, e.idem_key) for e in events] == [(kind, "telegram:chat:-100123", "main:77")]
    assert events[0].payload["bot"] == "main"


def test_service_messages_are_acknowledged_not_stored() -> None:
    assert _accept({"update_id": 1, "message": _message(migrate_from_chat_id=-4001)}) == []
    assert _accept({"update_id": 2, "message": _message(new_chat_members=[{"id": 5, "is_bot": False, "first_name": "N"}])}) == []
    assert _accept({"update_id": 3, "channel_post": _message(text="x")}) == []


def test_a_message_that_is_not_an_update_is_422() -> None:
    with pytest.raises(Rejected) as info:
        _accept({"update_id": 1, "message": {"text": "no chat"}})
    assert info.value.status == 422


def test_redelivery_is_one_event(relay: Relay, emu: Emu) -> None:
    emu.say(CLIENT_SG, ANNA, "раз")
    wait_for(emu.delivered)
    update = emu.get(f"bots/{BOT_ID}/updates")[0]["update"]
    again = relay.http.post(relay.hook, json=update, headers={HEADER: SECRET})
    assert again.json() == {"accepted": 0, "duplicates": 1}
    assert relay.runtime.inbox.depth() == {"pending": 1}

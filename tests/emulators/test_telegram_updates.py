"""Being a user: actions become Updates, delivered to the webhook (secret header, retries) or polled."""
from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import requests
import telegram
from telegram.error import NetworkError

from tests.emulators.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_GROUP, DMITRY, OLGA, STAFF, TOKEN,
                                                   Emu, Receiver, _emulator, emu, receiver, run, wait_for)

__all__ = ["_emulator", "emu", "receiver"]
SECRET = "s3cr3t_-A1"


def set_hook(emu: Emu, url: str, **extra: Any) -> bool:
    async def main() -> bool:
        async with emu.bot() as bot:
            return await bot.set_webhook(url, secret_token=SECRET, **extra)
    return run(main())


def test_webhook_delivery_carries_the_secret_and_a_real_update(emu: Emu, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    assert set_hook(emu, url, allowed_updates=["message", "edited_message", "callback_query", "my_chat_member"])
    emu.say(STAFF, ANNA, "/task Принтер сломался")
    hit = wait_for(rec.delivered)[0]
    assert hit["headers"]["X-Telegram-Bot-Api-Secret-Token"] == SECRET
    assert hit["headers"]["Content-Type"] == "application/json"
    update = telegram.Update.de_json(hit["json"], None)
    assert update.update_id == 100000001
    msg = update.message
    assert (msg.chat.id, msg.chat.type, msg.from_user.id) == (STAFF, "supergroup", ANNA)
    assert msg.text == "/task Принтер сломался"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bot_command", 0, 5)]

    async def info() -> telegram.WebhookInfo:
        async with emu.bot() as bot:
            return await bot.get_webhook_info()
    webhook = run(info())
    assert webhook.url == url and webhook.pending_update_count == 0
    assert webhook.allowed_updates == ("message", "edited_message", "callback_query", "my_chat_member")


def test_failed_deliveries_are_retried_in_order(emu: Emu, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.script = [500, 502]
    set_hook(emu, url)
    emu.say(STAFF, ANNA, "первое")
    emu.say(STAFF, ANNA, "второе")
    wait_for(lambda: len(rec.delivered()) == 2)
    assert [(h["status"], h["json"]["update_id"]) for h in rec.hits] == \
        [(500, 100000001), (502, 100000001), (200, 100000001), (200, 100000002)]
    info = emu.api("getWebhookInfo").json()["result"]
    assert info["last_error_message"].startswith("Wrong response from the webhook: 502")
    assert [d["attempt"] for d in emu.get(f"bots/{BOT_ID}/deliveries")] == [1, 2, 3, 1]


def test_an_update_is_dropped_after_the_last_retry(emu: Emu, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    emu.post("settings", webhook_retry_delays=[0.01, 0.01])
    rec.script = [500, 500, 500]
    set_hook(emu, url)
    emu.say(STAFF, ANNA, "потеряется")
    emu.say(STAFF, ANNA, "дойдёт")
    wait_for(rec.delivered)
    assert [h["status"] for h in rec.hits] == [500, 500, 500, 200]
    # The emulator records "delivered" only after the receiver's 200 comes back: wait for that too.
    statuses = lambda: [u["status"] for u in emu.get(f"bots/{BOT_ID}/updates")]  # noqa: E731
    wait_for(lambda: "pending" not in statuses())
    assert statuses() == ["dropped", "delivered"]


def test_webhook_answer_may_carry_a_method_call(emu: Emu, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    rec.reply = {"method": "sendMessage", "chat_id": STAFF, "text": "Принято"}
    set_hook(emu, url)
    emu.say(STAFF, ANNA, "вопрос")
    assert wait_for(lambda: [m["text"] for m in emu.sent(STAFF)]) == ["Принято"]


def test_get_updates_confirms_by_offset(emu: Emu) -> None:
    emu.say(STAFF, ANNA, "раз")
    emu.say(CLIENT_GROUP, DMITRY, "два")

    async def main() -> tuple[list[telegram.Update], list[telegram.Update]]:
        async with emu.bot() as bot:
            first = await bot.get_updates()
            again = await bot.get_updates(offset=first[-1].update_id + 1)
            return list(first), list(again)

    first, again = run(main())
    assert [u.message.text for u in first] == ["раз", "два"]
    assert first[1].message.chat.type == "group"
    assert again == [] and emu.pending() == []


def test_long_poll_returns_when_a_user_writes(emu: Emu) -> None:
    async def main() -> list[telegram.Update]:
        async with emu.bot() as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=10))
            await asyncio.sleep(0.05)
            await asyncio.to_thread(emu.say, OLGA, OLGA, "Здравствуйте!")
            return list(await poll)

    updates = run(main())
    assert updates[0].message.chat.type == "private" and updates[0].message.text == "Здравствуйте!"


def test_second_poller_terminates_the_first(emu: Emu) -> None:
    out: dict[str, Any] = {}
    url = f"{emu.url}/bot{TOKEN}/getUpdates"
    first = threading.Thread(target=lambda: out.update(first=requests.get(url, params={"timeout": 20}).json()))
    first.start()
    hub = emu.state.hub(emu.state.bot_by_ref(TOKEN))
    wait_for(lambda: hub._poll_seq == 1)
    assert requests.get(url).json() == {"ok": True, "result": []}
    first.join(10)
    assert out["first"]["error_code"] == 409 and "terminated by other getUpdates request" in out["first"]["description"]


def test_user_edit_is_an_update_but_deletion_is_not(emu: Emu) -> None:
    posted = emu.say(CLIENT_GROUP, DMITRY, "цена 100")
    emu.advance(30)
    emu.post(f"chats/{CLIENT_GROUP}/messages/{posted['message_id']}/edit", text="цена 120")
    emu.post(f"chats/{CLIENT_GROUP}/messages/{posted['message_id']}/delete")
    kinds = [next(k for k in u if k != "update_id") for u in emu.pending()]
    assert kinds == ["message", "edited_message"]
    edited = telegram.Update.de_json(emu.pending()[1], None).edited_message
    assert edited.text == "цена 120" and edited.edit_date is not None and edited.message_id == posted["message_id"]
    record = emu.get(f"chats/{CLIENT_GROUP}/messages")[0]
    assert record["deleted"] is True and [e["text"] for e in record["edits"]] == ["цена 100"]


def test_user_posts_reply_and_photo(emu: Emu) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"\x08\x02"
    first = emu.say(STAFF, ANNA, "смотри")
    emu.post(f"chats/{STAFF}/messages", **{"from": DMITRY, "caption": "фото поломки",
                                          "photo": {"content_base64": base64.b64encode(png).decode()},
                                          "reply_to_message_id": first["message_id"]})
    msg = telegram.Update.de_json(emu.pending()[1], None).message
    assert msg.caption == "фото поломки" and msg.reply_to_message.text == "смотри"
    assert (msg.photo[-1].width, msg.photo[-1].height) == (640, 480)


def test_adding_and_removing_the_bot(emu: Emu) -> None:
    chat = emu.post("chats", type="supergroup", title="Новый клиент", members=[{"user": ANNA, "status": "creator"}],
                    bots=[])
    assert emu.api("sendMessage", json={"chat_id": chat["id"], "text": "x"}).json()["description"] == \
        "Bad Request: chat not found"
    emu.post(f"chats/{chat['id']}/members", bot=TOKEN, status="administrator", by=ANNA)
    member_update, service = (telegram.Update.de_json(u, None) for u in emu.pending())
    change = member_update.my_chat_member
    assert (change.old_chat_member.status, change.new_chat_member.status, change.from_user.id) == \
        ("left", "administrator", ANNA)
    assert [u.id for u in service.message.new_chat_members] == [BOT_ID]
    assert emu.api("sendMessage", json={"chat_id": chat["id"], "text": "Добрый день"}).json()["ok"]

    emu.post(f"chats/{chat['id']}/members", bot=TOKEN, status="kicked", by=ANNA)
    last = telegram.Update.de_json(emu.pending()[-1], None)
    assert last.my_chat_member.new_chat_member.status == "kicked"  # the removal service message is not ours to see
    assert emu.api("sendMessage", json={"chat_id": chat["id"], "text": "x"}).json()["description"] == \
        "Forbidden: bot was kicked from the supergroup chat"


def test_allowed_updates_filter_what_is_queued(emu: Emu) -> None:
    async def main() -> list[telegram.Update]:
        async with emu.bot() as bot:
            await bot.get_updates(allowed_updates=["callback_query"])
            sent = await bot.send_message(STAFF, "x", reply_markup=telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("ok", callback_data="ok")]]))
            await asyncio.to_thread(emu.say, STAFF, ANNA, "не увидит")
            await asyncio.to_thread(emu.post, f"chats/{STAFF}/messages/{sent.message_id}/press", **{"from": ANNA})
            return list(await bot.get_updates())

    updates = run(main())
    assert [u.callback_query.data for u in updates] == ["ok"]
    assert [u["status"] for u in emu.get(f"bots/{BOT_ID}/updates")][0] == "filtered"


def test_privacy_mode_bot_sees_only_commands(emu: Emu) -> None:
    quiet = "7000000002:BBHsomeOtherTokenValue_1234567890"
    emu.post("bots", token=quiet, first_name="Тихий", username="quiet_bot", can_read_all_group_messages=False)
    emu.post(f"chats/{STAFF}/members", bot=quiet, status="member", by=ANNA)
    emu.say(STAFF, ANNA, "просто текст")
    emu.say(STAFF, ANNA, "/help")
    texts = [u["message"].get("text") for u in emu.get("bots/quiet_bot/pending") if "message" in u]
    assert texts == [None, "/help"]  # the join service message, then only the command
    assert [u["message"].get("text") for u in emu.pending()] == [None, "просто текст", "/help"]


def test_drop_pending_updates_and_webhook_descriptions(emu: Emu, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    emu.say(STAFF, ANNA, "старое")
    body = emu.api("setWebhook", json={"url": url, "drop_pending_updates": True}).json()
    assert body == {"ok": True, "result": True, "description": "Webhook was set"}
    assert emu.api("setWebhook", json={"url": url}).json()["description"] == "Webhook is already set"
    emu.say(STAFF, ANNA, "новое")
    wait_for(rec.delivered)
    assert [h["json"]["message"]["text"] for h in rec.hits] == ["новое"]
    assert "X-Telegram-Bot-Api-Secret-Token" not in rec.hits[0]["headers"]
    assert emu.api("deleteWebhook").json()["description"] == "Webhook was deleted"
    assert emu.api("deleteWebhook").json()["description"] == "Webhook is already deleted"


def test_fault_injection_reaches_ptb(emu: Emu) -> None:
    emu.post("faults", script=["502"])

    async def main() -> str:
        async with emu.bot() as bot:  # getMe is the first call and gets the 502
            return "unreachable"

    try:
        run(main())
        raise AssertionError("expected a NetworkError")
    except NetworkError as exc:
        assert "Bad Gateway" in str(exc)
    assert emu.api("getMe").json()["ok"] is True

"""Every failure the relay must handle, with the real server's text, as PTB surfaces it."""
from __future__ import annotations

import datetime as dtm
import json
from typing import Any, Awaitable, Callable

import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.emulators.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_GROUP, CLIENT_SG, DMITRY, OLGA, STAFF, TOKEN,
                                                   Emu, _emulator, emu, run)

__all__ = ["_emulator", "emu"]

Call = Callable[[telegram.Bot], Awaitable[Any]]


def fails(emu: Emu, call: Call, exc_type: type[Exception]) -> Exception:
    async def main() -> None:
        async with emu.bot() as bot:
            await call(bot)

    with pytest.raises(exc_type) as info:
        run(main())
    return info.value


def raw(emu: Emu, method: str, **data: Any) -> dict[str, Any]:
    resp = emu.api(method, data=data)
    body = resp.json()
    assert resp.status_code == body["error_code"] and body["ok"] is False
    return body


def test_unknown_chat(emu: Emu) -> None:
    err = fails(emu, lambda b: b.send_message(-1009999999999, "x"), BadRequest)
    assert err.message == "Chat not found"
    assert raw(emu, "sendMessage", chat_id="-1009999999999", text="x")["description"] == "Bad Request: chat not found"
    assert raw(emu, "sendMessage", text="x")["description"] == "Bad Request: chat_id is empty"


@pytest.mark.parametrize("chat_id, kind", [(CLIENT_GROUP, "group"), (CLIENT_SG, "supergroup")])
def test_bot_kicked(emu: Emu, chat_id: int, kind: str) -> None:
    result = emu.post(f"chats/{chat_id}/members", bot=TOKEN, status="kicked")
    assert result["new_status"] == "kicked"
    update = telegram.Update.de_json(emu.pending()[0], None)
    assert update.my_chat_member.new_chat_member.status == "kicked"
    err = fails(emu, lambda b: b.send_message(chat_id, "x"), Forbidden)
    assert err.message == f"Forbidden: bot was kicked from the {kind} chat"


def test_bot_left(emu: Emu) -> None:
    emu.post(f"chats/{CLIENT_SG}/members", bot=TOKEN, status="left")
    assert raw(emu, "sendMessage", chat_id=CLIENT_SG, text="x")["description"] == \
        "Forbidden: bot is not a member of the supergroup chat"


def test_blocked_deactivated_and_never_started_private_chats(emu: Emu) -> None:
    emu.post(f"chats/{OLGA}/block")
    update = telegram.Update.de_json(emu.pending()[-1], None)
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert fails(emu, lambda b: b.send_message(OLGA, "x"), Forbidden).message == \
        "Forbidden: bot was blocked by the user"
    emu.post(f"chats/{OLGA}/unblock")
    run_ok = emu.api("sendMessage", json={"chat_id": OLGA, "text": "снова"}).json()
    assert run_ok["ok"] is True

    emu.post("chats", type="private", user=DMITRY, started=False)
    assert raw(emu, "sendMessage", chat_id=DMITRY, text="x")["description"] == \
        "Forbidden: bot can't initiate conversation with a user"
    emu.say(DMITRY, DMITRY, "/start")
    assert emu.api("sendMessage", json={"chat_id": DMITRY, "text": "привет"}).json()["ok"] is True

    emu.post(f"users/{OLGA}", deactivated=True)
    assert raw(emu, "sendMessage", chat_id=OLGA, text="x")["description"] == "Forbidden: user is deactivated"


def test_group_migrated_to_supergroup(emu: Emu) -> None:
    result = emu.post(f"chats/{CLIENT_GROUP}/migrate", by=DMITRY)
    new_id = result["new_chat_id"]
    assert str(new_id).startswith("-100")
    err = fails(emu, lambda b: b.send_message(CLIENT_GROUP, "x"), ChatMigrated)
    assert err.new_chat_id == new_id
    body = raw(emu, "sendMessage", chat_id=CLIENT_GROUP, text="x")
    assert body == {"ok": False, "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": new_id}}
    old, new = (telegram.Update.de_json(u, None).message for u in emu.pending())
    assert (old.chat.id, old.migrate_to_chat_id) == (CLIENT_GROUP, new_id)
    assert (new.chat.id, new.chat.type, new.migrate_from_chat_id, new.message_id) == \
        (new_id, "supergroup", CLIENT_GROUP, 1)
    assert emu.api("sendMessage", json={"chat_id": new_id, "text": "ok"}).json()["ok"] is True


def test_too_many_requests_carries_retry_after(emu: Emu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    emu.post("scenarios", method="sendMessage", retry_after=7)
    err = fails(emu, lambda b: b.send_message(STAFF, "x"), RetryAfter)
    assert err.retry_after == dtm.timedelta(seconds=7)
    emu.post("scenarios", method="sendMessage", retry_after=7)
    resp = emu.api("sendMessage", data={"chat_id": STAFF, "text": "x"})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert resp.json()["description"] == "Too Many Requests: retry after 7"
    assert emu.get("stats")["too_many_requests_total"] == 2


@pytest.mark.parametrize("html, description", [
    ("<p>Привет</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("<b>жирный", 'Can\'t find end tag corresponding to start tag "b"'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("x <b", "Unclosed start tag at byte offset 2"),
    ('<a href="https://x.ru">ok</a><span>s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 29'),
])
def test_html_that_telegram_rejects(emu: Emu, html: str, description: str) -> None:
    err = fails(emu, lambda b: b.send_message(STAFF, html, parse_mode="HTML"), BadRequest)
    # PTB strips "Bad Request: " and applies str.capitalize(), which lower-cases the rest
    assert err.message == f"can't parse entities: {description}".capitalize()
    assert raw(emu, "sendMessage", chat_id=STAFF, text=html, parse_mode="HTML")["description"] == \
        f"Bad Request: can't parse entities: {description}"


def test_text_limits(emu: Emu) -> None:
    assert fails(emu, lambda b: b.send_message(STAFF, "   "), BadRequest).message == "Message text is empty"
    assert fails(emu, lambda b: b.send_message(STAFF, "<b></b>", parse_mode="HTML"), BadRequest).message == \
        "Message text is empty"
    assert fails(emu, lambda b: b.send_message(STAFF, "я" * 4097), BadRequest).message == "Message is too long"
    # 4096 characters after parsing is fine even when the markup makes the source longer
    ok = emu.api("sendMessage", json={"chat_id": STAFF, "text": "<b>" + "я" * 4096 + "</b>", "parse_mode": "HTML"})
    assert ok.json()["ok"] is True
    assert raw(emu, "sendDocument", chat_id=STAFF, document="x", caption="я" * 1025)["description"] == \
        "Bad Request: message caption is too long"
    assert raw(emu, "sendMessage", chat_id=STAFF, text="x", parse_mode="html5")["description"] == \
        "Bad Request: unsupported parse_mode"


def test_keyboard_validation(emu: Emu) -> None:
    def markup(buttons: list[dict[str, Any]]) -> str:
        return json.dumps({"inline_keyboard": [buttons]})

    cases = [(markup([{"text": "x", "callback_data": "я" * 33}]), "Bad Request: BUTTON_DATA_INVALID"),
             (markup([{"text": "x"}]), "Bad Request: can't parse inline keyboard button: "
                                       "Text buttons are unallowed in the inline keyboard"),
             ("{not json", "Bad Request: can't parse reply keyboard markup JSON object")]
    for reply_markup, description in cases:
        assert raw(emu, "sendMessage", chat_id=STAFF, text="x", reply_markup=reply_markup)["description"] == description


def test_edit_and_reply_targets(emu: Emu) -> None:
    emu.say(STAFF, ANNA, "от человека")
    assert raw(emu, "editMessageText", chat_id=STAFF, message_id=1, text="y")["description"] == \
        "Bad Request: message can't be edited"
    assert raw(emu, "editMessageText", chat_id=STAFF, message_id=99, text="y")["description"] == \
        "Bad Request: message to edit not found"
    assert raw(emu, "sendMessage", chat_id=STAFF, text="x", reply_to_message_id=99)["description"] == \
        "Bad Request: message to be replied not found"
    params = json.dumps({"message_id": 99, "allow_sending_without_reply": True})
    assert emu.api("sendMessage", data={"chat_id": STAFF, "text": "x", "reply_parameters": params}).json()["ok"]
    emu.post(f"chats/{STAFF}/messages/1/delete")
    assert raw(emu, "sendMessage", chat_id=STAFF, text="x", reply_to_message_id=1)["description"] == \
        "Bad Request: message to be replied not found"


def test_files(emu: Emu) -> None:
    assert raw(emu, "getFile", file_id="nope")["description"] == "Bad Request: invalid file_id"
    assert raw(emu, "sendDocument", chat_id=STAFF, document="nope")["description"] == \
        "Bad Request: wrong file identifier/HTTP URL specified"
    resp = emu.api("sendPhoto", data={"chat_id": STAFF}, files={"photo": ("a.png", b"not an image")})
    assert resp.json()["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    assert emu.http.get(f"{emu.url}/file/bot{TOKEN}/documents/none.pdf").json()["description"] == "Not Found"


def test_tokens_and_methods(emu: Emu) -> None:
    other = telegram.Bot("123456:UNKNOWN", base_url=f"{emu.url}/bot")
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        run(other.initialize())
    assert emu.http.get(f"{emu.url}/bot123456:UNKNOWN/getMe").json() == \
        {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert emu.http.get(f"{emu.url}/botnotatoken/getMe").json()["description"] == \
        "Unauthorized: invalid token specified"
    assert emu.http.get(f"{emu.url}/bot{TOKEN}/sendTelepathy").json() == \
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert emu.http.get(f"{emu.url}/somewhere").json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert emu.http.get(f"{emu.url}/bot{TOKEN}/GETME").json()["result"]["id"] == BOT_ID  # case-insensitive


def test_getupdates_conflicts_with_a_webhook(emu: Emu) -> None:
    assert emu.api("setWebhook", json={"url": "http://127.0.0.1:9/hook"}).json()["description"] == "Webhook was set"
    err = fails(emu, lambda b: b.get_updates(), Conflict)
    assert err.message == ("Conflict: can't use getUpdates method while webhook is active; "
                           "use deleteWebhook to delete the webhook first")
    assert raw(emu, "setWebhook", url="https://x.ru/h", secret_token="a+b")["description"] == \
        "Bad Request: secret token contains unallowed characters"


def test_scripted_failures_target_one_chat(emu: Emu) -> None:
    emu.post("scenarios", method="sendMessage", chat_id=CLIENT_SG, error_code=403,
             description="Forbidden: bot was kicked from the supergroup chat", times=2)
    assert emu.api("sendMessage", json={"chat_id": STAFF, "text": "x"}).json()["ok"] is True
    for _ in range(2):
        assert raw(emu, "sendMessage", chat_id=CLIENT_SG, text="x")["error_code"] == 403
    assert emu.api("sendMessage", json={"chat_id": CLIENT_SG, "text": "x"}).json()["ok"] is True

"""python-telegram-bot against the emulator: the happy paths the relay's connector uses."""
from __future__ import annotations

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from tests.emulators.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_GROUP, DMITRY, SERGEY, STAFF, TOKEN, Emu,
                                                   _emulator, emu, run)

__all__ = ["_emulator", "emu"]

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("✅ Готово", callback_data="t:1024:s:3"),
                                  InlineKeyboardButton("Открыть", url="https://crm.example.ru/task/1024")]])
PNG_2000x1000 = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (2000).to_bytes(4, "big") + (1000).to_bytes(4, "big") \
    + b"\x08\x02\x00\x00\x00" + b"\x00" * 64


def test_initialize_calls_get_me_and_reads_the_bot(emu: Emu) -> None:
    async def main() -> telegram.User:
        async with emu.bot() as bot:
            return bot.bot

    me = run(main())
    assert (me.id, me.username, me.is_bot) == (BOT_ID, "crm_relay_demo_bot", True)
    assert me.can_read_all_group_messages is True


def test_send_html_with_inline_keyboard(emu: Emu) -> None:
    async def main() -> telegram.Message:
        async with emu.bot() as bot:
            return await bot.send_message(STAFF, "<b>Задача #1024</b> создана &amp; назначена",
                                          parse_mode="HTML", reply_markup=KEYBOARD)

    msg = run(main())
    assert msg.text == "Задача #1024 создана & назначена"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 12)]
    assert msg.from_user.id == BOT_ID and msg.chat.type == "supergroup" and msg.message_id == 1
    assert msg.reply_markup == KEYBOARD
    received = emu.sent(STAFF)[0]
    assert received["source"] == "<b>Задача #1024</b> создана &amp; назначена"
    assert received["parse_mode"] == "HTML"
    assert received["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "t:1024:s:3"


def test_message_ids_count_per_chat_and_replies_carry_the_target(emu: Emu) -> None:
    async def main() -> list[telegram.Message]:
        async with emu.bot() as bot:
            first = await bot.send_message(STAFF, "one")
            other = await bot.send_message(CLIENT_GROUP, "other chat")
            reply = await bot.send_message(STAFF, "two", reply_to_message_id=first.message_id)
            return [first, other, reply]

    first, other, reply = run(main())
    assert (first.message_id, other.message_id, reply.message_id) == (1, 1, 2)
    assert other.chat.type == "group"
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "one"
    assert emu.sent(STAFF)[1]["reply_to_message_id"] == 1


def test_edit_text_and_markup(emu: Emu) -> None:
    async def main() -> tuple[telegram.Message, telegram.Message]:
        async with emu.bot() as bot:
            sent = await bot.send_message(STAFF, "Статус: <i>новая</i>", parse_mode="HTML", reply_markup=KEYBOARD)
            emu.advance(5)
            edited = await bot.edit_message_text("Статус: <i>в работе</i>", chat_id=STAFF,
                                                 message_id=sent.message_id, parse_mode="HTML",
                                                 reply_markup=KEYBOARD)
            cleared = await bot.edit_message_reply_markup(chat_id=STAFF, message_id=sent.message_id)
            return edited, cleared

    edited, cleared = run(main())
    assert edited.text == "Статус: в работе" and edited.edit_date is not None
    assert cleared.reply_markup is None
    record = emu.sent(STAFF)[0]
    assert record["text"] == "Статус: в работе" and record["reply_markup"] is None
    assert [e["text"] for e in record["edits"]] == ["Статус: новая", "Статус: в работе"]


def test_edit_text_without_markup_removes_the_keyboard(emu: Emu) -> None:
    async def main() -> telegram.Message:
        async with emu.bot() as bot:
            sent = await bot.send_message(STAFF, "a", reply_markup=KEYBOARD)
            return await bot.edit_message_text("b", chat_id=STAFF, message_id=sent.message_id)

    assert run(main()).reply_markup is None


def test_identical_edits_are_not_modified(emu: Emu) -> None:
    async def main() -> list[str]:
        errors = []
        async with emu.bot() as bot:
            sent = await bot.send_message(STAFF, "<b>x</b>", parse_mode="HTML", reply_markup=KEYBOARD)
            for call in (lambda: bot.edit_message_text("<b>x</b>", chat_id=STAFF, message_id=sent.message_id,
                                                       parse_mode="HTML", reply_markup=KEYBOARD),
                         lambda: bot.edit_message_reply_markup(chat_id=STAFF, message_id=sent.message_id,
                                                               reply_markup=KEYBOARD)):
                with pytest.raises(BadRequest) as exc:
                    await call()
                errors.append(exc.value.message)
        return errors

    for message in run(main()):
        assert message.startswith("Message is not modified: specified new message content and reply markup")


def test_button_press_then_answer_callback_query(emu: Emu) -> None:
    async def send() -> int:
        async with emu.bot() as bot:
            return (await bot.send_message(STAFF, "Задача #1024", reply_markup=KEYBOARD)).message_id

    message_id = run(send())
    pressed = emu.post(f"chats/{STAFF}/messages/{message_id}/press", **{"from": DMITRY, "data": "t:1024:s:3"})
    update = telegram.Update.de_json(emu.pending()[0], None)
    query = update.callback_query
    assert query is not None and query.id == pressed["callback_query_id"]
    assert (query.data, query.from_user.id, query.message.message_id) == ("t:1024:s:3", DMITRY, message_id)

    async def answer() -> tuple[bool, str]:
        async with emu.bot() as bot:
            ok = await bot.answer_callback_query(query.id, text="Отмечено")
            with pytest.raises(BadRequest) as again:
                await bot.answer_callback_query(query.id)
            return ok, again.value.message

    ok, second = run(answer())
    assert ok is True
    assert second == "Query is too old and response timeout expired or query id is invalid"
    assert emu.get(f"callbacks/{query.id}")["answer"]["text"] == "Отмечено"


def test_late_answer_is_too_old(emu: Emu) -> None:
    async def send() -> int:
        async with emu.bot() as bot:
            return (await bot.send_message(STAFF, "x", reply_markup=KEYBOARD)).message_id

    query_id = emu.post(f"chats/{STAFF}/messages/{run(send())}/press", **{"from": ANNA})["callback_query_id"]
    emu.advance(60)

    async def answer() -> None:
        async with emu.bot() as bot:
            await bot.answer_callback_query(query_id)

    with pytest.raises(BadRequest, match="Query is too old"):
        run(answer())


def test_send_document_get_file_and_download(emu: Emu) -> None:
    payload = "Счёт №17 на 12 000 ₽\n".encode() * 50

    async def main() -> tuple[telegram.Message, telegram.File, bytes, telegram.Message]:
        async with emu.bot() as bot:
            msg = await bot.send_document(STAFF, payload, filename="invoice.pdf", caption="<b>Счёт</b>",
                                          parse_mode="HTML")
            file = await bot.get_file(msg.document.file_id)
            data = bytes(await file.download_as_bytearray())
            again = await bot.send_document(CLIENT_GROUP, msg.document.file_id)
            return msg, file, data, again

    msg, file, data, again = run(main())
    assert msg.document.file_name == "invoice.pdf" and msg.document.mime_type == "application/pdf"
    assert msg.document.file_size == len(payload)
    assert msg.caption == "Счёт" and msg.caption_entities[0].type == "bold"
    assert file.file_path.startswith(f"{emu.url}/file/bot{TOKEN}/documents/")
    assert data == payload
    assert again.document.file_unique_id == msg.document.file_unique_id


def test_send_photo_lists_sizes_smallest_first(emu: Emu) -> None:
    async def main() -> telegram.Message:
        async with emu.bot() as bot:
            return await bot.send_photo(STAFF, PNG_2000x1000, caption="схема")

    photo = run(main()).photo
    assert [(p.width, p.height) for p in photo][-1] == (2000, 1000)
    assert [p.width for p in photo] == sorted(p.width for p in photo)


def test_user_document_is_downloadable_by_the_bot(emu: Emu) -> None:
    emu.post(f"chats/{STAFF}/messages", **{"from": ANNA, "caption": "акт",
                                          "document": {"file_name": "act.txt", "content_text": "акт сверки"}})
    update = telegram.Update.de_json(emu.pending()[0], None)
    assert update.message.caption == "акт" and update.message.document.file_name == "act.txt"

    async def main() -> bytes:
        async with emu.bot() as bot:
            file = await bot.get_file(update.message.document.file_id)
            return bytes(await file.download_as_bytearray())

    assert run(main()).decode() == "акт сверки"


def test_delete_message_rules(emu: Emu) -> None:
    emu.say(CLIENT_GROUP, SERGEY, "сообщение клиента")

    async def main() -> tuple[bool, str, str]:
        async with emu.bot() as bot:
            own = await bot.send_message(CLIENT_GROUP, "удалю")
            ok = await bot.delete_message(CLIENT_GROUP, own.message_id)
            with pytest.raises(BadRequest) as gone:
                await bot.delete_message(CLIENT_GROUP, own.message_id)
            with pytest.raises(BadRequest) as foreign:
                await bot.delete_message(CLIENT_GROUP, 1)  # the client's message; bot is no admin here
            return ok, gone.value.message, foreign.value.message

    ok, gone, foreign = run(main())
    assert ok is True and gone == "Message to delete not found" and foreign == "Message can't be deleted"
    assert emu.get(f"chats/{CLIENT_GROUP}/messages")[1]["deleted"] is True


def test_get_chat_and_members(emu: Emu) -> None:
    async def main() -> tuple[telegram.ChatFullInfo, telegram.ChatMember, telegram.ChatMember, int]:
        async with emu.bot() as bot:
            chat = await bot.get_chat(STAFF)
            me = await bot.get_chat_member(STAFF, BOT_ID)
            owner = (await bot.get_chat_administrators(STAFF))[0]
            count = await bot.get_chat_member_count(STAFF)
            return chat, me, owner, count

    chat, me, owner, count = run(main())
    assert (chat.id, chat.type, chat.title) == (STAFF, "supergroup", "Поддержка — сотрудники")
    assert me.status == "administrator" and owner.status == "creator" and owner.user.id == ANNA
    assert count == 3


def test_every_encoding_the_bot_api_accepts(emu: Emu) -> None:
    emu.post("limits", enabled=False)  # four sends into one chat at one frozen instant
    markup = '{"inline_keyboard": [[{"text": "\\u2705 Done", "callback_data": "t:1024:s:3"}]]}'
    by_query = emu.http.get(f"{emu.url}/bot{TOKEN}/sendMessage", params={"chat_id": STAFF, "text": "query"})
    by_form = emu.api("sendMessage", data={"chat_id": str(STAFF), "text": "form", "reply_markup": markup,
                                           "disable_notification": "true"})
    by_json = emu.api("sendMessage", json={"chat_id": STAFF, "text": "json",
                                           "reply_markup": {"inline_keyboard": [[{"text": "✅ Done",
                                                                                  "callback_data": "x"}]]}})
    by_multipart = emu.api("sendMessage", files={"chat_id": (None, str(STAFF)), "text": (None, "multipart")})
    results = [r.json() for r in (by_query, by_form, by_json, by_multipart)]
    assert [r["result"]["text"] for r in results] == ["query", "form", "json", "multipart"]
    assert results[1]["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ Done"
    assert all(r.headers["Content-Type"] == "application/json" for r in (by_query, by_form, by_json, by_multipart))


def test_a_second_bot_has_its_own_token_and_private_chats(emu: Emu) -> None:
    other = "7000000003:CCHanotherTokenValue_123456789012"
    emu.post("bots", token=other, first_name="Второй", username="second_bot")
    emu.post("chats", type="private", user=DMITRY, bot=other)

    async def main() -> tuple[str, int]:
        async with emu.bot(other) as bot:
            msg = await bot.send_message(DMITRY, "привет от второго")
            return bot.bot.username, msg.message_id

    assert run(main()) == ("second_bot", 1)
    assert emu.get(f"chats/{DMITRY}/sent", bot="second_bot")[0]["text"] == "привет от второго"
    # the first bot has no private chat with Дмитрий
    assert emu.api("sendMessage", json={"chat_id": DMITRY, "text": "x"}).json()["description"] == \
        "Bad Request: chat not found"


def test_chat_action_and_commands(emu: Emu) -> None:
    async def main() -> tuple[bool, list[str]]:
        async with emu.bot() as bot:
            typing = await bot.send_chat_action(STAFF, "typing")
            await bot.set_my_commands([("task", "создать задачу"), ("status", "статус задачи")])
            return typing, [c.command for c in await bot.get_my_commands()]

    assert run(main()) == (True, ["task", "status"])

"""The client chat and the task (S10, S12, S13) end to end: Telegram emulator ↔ relay ↔ Planfix emulator,
with the shipped agency rules. Every assertion reads what an emulator now holds."""
from __future__ import annotations

import requests

from tests.emulators.test_telegram_helpers import ANNA, CLIENT_GROUP, CLIENT_SG, OLGA
from tests.support.planfix import Agency, agency, planfix_server, post_hook, telegram_server, tg

__all__ = ["agency", "planfix_server", "telegram_server", "tg"]


def test_messages_edits_and_files_become_comments_that_outlive_deletion(agency: Agency) -> None:
    seeded = len(agency.comments(1001))
    said = agency.tg.say(CLIENT_SG, OLGA, "Добрый день! Когда будет макет? <срочно>\nИ ещё вопрос по бюджету")
    agency.tg.post(f"chats/{CLIENT_SG}/messages/{said['message_id']}/edit", text="Добрый день! Когда будет макет главной?")
    agency.tg.post(f"chats/{CLIENT_SG}/messages", **{"from": OLGA, "caption": "ТЗ во вложении", "document": {
        "file_name": "tz.pdf", "mime_type": "application/pdf", "content_text": "%PDF-1.4 техническое задание"}})
    agency.tg.say(CLIENT_SG, ANNA, "/bind 1001")  # a command is not a client message: not mirrored
    agency.settle()

    comments = agency.comments(1001)[seeded:]
    assert len(comments) == 3
    first, edit, upload = (c["description"] for c in comments)
    assert first.startswith("<b>Ольга Кузнецова</b> (@olga_romashka)") and "в Telegram" in first
    assert "Когда будет макет? &lt;срочно&gt;<br>И ещё вопрос по бюджету" in first
    assert "изменил(а) сообщение" in edit and "Когда будет макет главной?" in edit
    assert "ТЗ во вложении" in upload
    assert [f["name"] for f in comments[2]["files"]] == ["tz.pdf"]
    assert all(c["owner"]["id"] == "user:1" for c in comments)        # written by the relay's robot
    written = next(m for m in agency.tg.get(f"chats/{CLIENT_SG}/messages") if m["message_id"] == said["message_id"])
    assert comments[0]["dateTime"]["datetime"][:16] == _utc_minute(written["date"])  # when the client wrote it
    stored = requests.get(f"{agency.pf.url}/rest/file/{comments[2]['files'][0]['id']}/download",
                          headers={"Authorization": agency.pf.http.headers["Authorization"]}, timeout=10)
    assert stored.content == "%PDF-1.4 техническое задание".encode()

    agency.tg.post(f"chats/{CLIENT_SG}/messages/{said['message_id']}/delete", **{"from": OLGA})
    agency.settle()
    assert [m["deleted"] for m in agency.tg.get(f"chats/{CLIENT_SG}/messages") if m["message_id"] == said["message_id"]] == [True]
    assert agency.comments(1001)[seeded:] == comments                # Telegram's deletion reaches nobody


def test_comments_for_the_client_reach_the_chat_and_internal_ones_do_not(agency: Agency) -> None:
    agency.pf.control("POST", "/ui/tasks/1003/comments", {
        "user": "user:2", "description": "<p>Макет будет <strong>в пятницу</strong> &amp; с вариантами.</p><p>Спасибо!</p>",
        "recipients": {"users": [{"id": "contact:11"}]}})
    agency.pf.control("POST", "/ui/tasks/1003/comments", {"user": "user:2", "description": "Внутреннее: проверить бюджет",
                                                          "recipients": {"users": [{"id": "user:4"}]}})
    agency.settle()
    sent = agency.tg.sent(CLIENT_SG)          # 1003 has no chat field: its parent 1001 has
    assert [m["text"] for m in sent] == ["Смирнова Анна: Макет будет в пятницу & с вариантами.\nСпасибо!"]
    assert sent[0]["source"].startswith("<b>Смирнова Анна</b>: Макет будет <b>в пятницу</b> &amp; с вариантами.")
    assert agency.tg.sent(CLIENT_GROUP) == []


def test_started_and_done_once_each_in_the_right_chat_even_when_delivered_twice(agency: Agency) -> None:
    agency.status(1004, 2, user="user:5")     # Ромашка: верстка → В работе
    agency.settle()
    _deliver_again(agency, 1004)
    agency.settle()
    agency.status(1004, 5, user="user:5")     # → Завершенная
    agency.status(1006, 5)                    # Вектор: логотип → Завершенная (the other client's chat)
    agency.settle()
    _deliver_again(agency, 1004)
    agency.settle()
    assert agency.tg.texts(CLIENT_SG) == ["🚀 Мы начали работу над задачей «Ромашка: верстка». Сообщим, когда закончим.",
                                          "✅ Задача «Ромашка: верстка» выполнена."]
    assert agency.tg.texts(CLIENT_GROUP) == ["✅ Задача «Вектор: логотип» выполнена."]
    assert any("no change" in m for m in agency.steps("read-back"))   # the repeats were looked at, and were no news


def test_done_message_carries_the_result_of_the_work(agency: Agency) -> None:
    agency.status(1003, 5, user="user:4")
    agency.settle()
    assert agency.tg.texts(CLIENT_SG) == ["✅ Задача «Ромашка: дизайн главной страницы» выполнена.\n\n"
                                          "Итог работы: Макет главной страницы, 3 варианта"]


def test_approve_completes_the_task_once_and_tells_the_assignee(agency: Agency) -> None:
    agency.status(1004, 3, user="user:5")     # На согласовании → the card with two buttons
    agency.settle()
    card = agency.tg.sent(CLIENT_SG)[-1]
    assert "Утвердите, пожалуйста, промежуточный результат: «Ромашка: верстка»" in card["text"]
    buttons = card["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [("✅ Утвердить", "pf:approve:1004"),
                                                                  ("✏️ Внести правки", "pf:changes:1004")]
    first = _press(agency, card, "pf:approve:1004")
    second = _press(agency, card, "pf:approve:1004")     # a double click
    late = _press(agency, card, "pf:changes:1004")       # and the other button, before the buttons are gone
    agency.settle()

    assert agency.task(1004)["status"]["name"] == "Завершенная"
    told = [c for c in agency.comments(1004) if "утвердил результат" in c["description"]]
    assert len(told) == 1 and told[0]["description"] == "Клиент Ольга Кузнецова утвердил результат в Telegram."
    assert [r["id"] for r in told[0]["recipients"]["users"]] == ["user:5"]   # the assignee is notified
    assert not any("правки" in c["description"] for c in agency.comments(1004))
    assert _answer(agency, first) == "Спасибо! Результат утверждён."
    assert "ничего не меняет" in _answer(agency, second)
    assert _answer(agency, late) == "Эта работа уже не ждёт согласования."
    card = next(m for m in agency.tg.sent(CLIENT_SG) if m["message_id"] == card["message_id"])
    assert card["text"].endswith("✅ Утверждено: Ольга Кузнецова") and not card.get("reply_markup")
    # the approval is news like a person's: the chat hears the task is done, once
    assert agency.tg.texts(CLIENT_SG)[-1] == "✅ Задача «Ромашка: верстка» выполнена."
    assert agency.tg.texts(CLIENT_SG).count("✅ Задача «Ромашка: верстка» выполнена.") == 1


def test_request_changes_moves_the_task_back_and_tells_the_assignee(agency: Agency) -> None:
    agency.status(1003, 2, user="user:4")
    agency.status(1003, 3, user="user:4")
    agency.settle()
    card = agency.tg.sent(CLIENT_SG)[-1]
    first = _press(agency, card, "pf:changes:1003")
    second = _press(agency, card, "pf:changes:1003")
    agency.settle()
    assert agency.task(1003)["status"]["name"] == "Требуются правки"
    told = [c for c in agency.comments(1003) if "просит внести правки" in c["description"]]
    assert len(told) == 1 and [r["id"] for r in told[0]["recipients"]["users"]] == ["user:4"]
    assert _answer(agency, first).startswith("Передали исполнителю")
    assert "ничего не меняет" in _answer(agency, second)
    assert agency.tg.sent(CLIENT_SG)[-1]["text"].endswith("✏️ Нужны правки: Ольга Кузнецова")


# --- helpers -----------------------------------------------------------------------------------
def _deliver_again(agency: Agency, task: int) -> None:
    """Planfix sends a scenario request again (it retries after an answer it never got)."""
    last = [d for d in agency.pf.deliveries() if d["task"] == task and d["rule"] == "relay: status changed"][-1]
    answer = post_hook(last["url"], last["body"], last["headers"])
    assert answer.json() == {"accepted": 1, "duplicates": 0}   # stored again: a new look at the task, not a new change


def _press(agency: Agency, card: dict, data: str) -> str:
    return agency.tg.post(f"chats/{CLIENT_SG}/messages/{card['message_id']}/press", **{"from": OLGA, "data": data})["callback_query_id"]


def _answer(agency: Agency, callback_id: str) -> str:
    return agency.tg.get(f"callbacks/{callback_id}")["answer"]["text"]


def _utc_minute(unix: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M")


def test_a_chat_bound_with_bind_goes_to_that_task(agency: Agency) -> None:
    from tests.emulators.test_telegram_helpers import DMITRY, SERGEY
    agency.tg.say(CLIENT_GROUP, DMITRY, "/bind 1006")            # staff (a member of the staff chat)
    agency.settle()
    agency.tg.say(CLIENT_GROUP, SERGEY, "Логотип лучше в синем")
    agency.settle()
    assert agency.tg.texts(CLIENT_GROUP) == ["✅ Чат привязан: planfix:task:1006"]
    assert [c["description"] for c in agency.comments(1006)][-1].endswith("Логотип лучше в синем")
    assert not any("синем" in c["description"] for c in agency.comments(1005))   # not the task with the chat field

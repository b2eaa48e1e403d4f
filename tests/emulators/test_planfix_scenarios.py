"""Planfix → relay scenario requests: templates, triggers, one-at-a-time delivery, retries, the pause."""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.emulators.test_planfix_fixtures import (  # noqa: F401
    Planfix, Receiver, pf, pf_server, receiver, receiver_server)


def rule(pf: Planfix, name: str, event: str, url: str, body: str = "", **extra: Any) -> None:
    spec = {"name": name, "event": event, "when": extra.pop("when", {}),
            "request": {"url": url, "body": body, **extra}}
    answer = pf.control("POST", "/scenarios", spec)
    assert any(r["name"] == name for r in answer["scenarios"]), answer


def settle(pf: Planfix) -> list[dict[str, Any]]:
    """Wait until nothing is due or sending; returns the delivery log."""
    answer = pf.control("POST", "/deliveries/wait", {"timeout": 5})
    assert answer["idle"] is True
    return answer["deliveries"]


def wait_calls(hook: Receiver, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(hook.calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(hook.calls) >= count


BODY = ('{"task": {{Задача.Номер}}, "name": "{{Задача.Название}}", "status": "{{Задача.Статус}}", '
        '"chat": "{{Задача.Telegram chat id}}", "assignees": %%% JSONARRAY({{Задача.Исполнители}}) %%%, '
        '"auditors": %%% JSONARRAY({{Задача.Участники}}) %%%, "client_tg": "{{Задача.Контрагент.Telegram ID}}", '
        '"by": "{{Пользователь.Идентификатор}}", "today": "{{Системные.Сегодня}}"}')


def test_status_change_sends_the_rendered_template(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "completed", "status_changed", receiver.url + "/hooks/task?n={{Задача.Номер}}&s={{Задача.Статус}}", BODY,
         headers={"X-Relay-Secret": "s3cret", "X-Task": "{{Задача.Номер}}"}, when={"status_to": ["Completed"]})
    pf.post("/task/1004", {"status": {"id": 2}})  # not the wanted status: nothing is sent
    assert pf.post("/task/1001", {"status": {"id": 5}}).status_code == 200
    rows = settle(pf)
    assert len(rows) == 1 and rows[0]["state"] == "delivered" and rows[0]["unresolved"] == []
    assert rows[0]["attempts"][0]["status"] == 200
    call = receiver.calls[0]
    assert (call["method"], call["path"], call["args"]) == ("POST", "/hooks/task", {"n": "1001", "s": "Завершенная"})
    assert call["headers"]["X-Relay-Secret"] == "s3cret" and call["headers"]["X-Task"] == "1001"
    assert call["headers"]["Content-Type"] == "application/json"
    assert json.loads(call["body"]) == {"task": 1001, "name": "Ромашка: коммуникация", "status": "Завершенная",
                                        "chat": "-1001234567890", "assignees": ["Смирнова Анна"], "auditors": [],
                                        "client_tg": "123456789", "by": "user:1", "today": "01-05-2024"}


def test_retry_after_non_200_follows_the_documented_schedule(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "any status", "status_changed", receiver.url + "/hooks/task", '{"task": {{Задача.Номер}}}')
    receiver.statuses = [500]
    pf.post("/task/1003", {"status": {"id": 4}})
    first = settle(pf)[0]
    assert first["state"] == "queued" and [a["status"] for a in first["attempts"]] == [500]
    assert first["next_attempt_at"] == "2024-05-01T10:15:00+00:00"
    pf.advance(899)
    assert len(settle(pf)[0]["attempts"]) == 1
    pf.advance(1)
    done = settle(pf)[0]
    assert done["state"] == "delivered" and [a["status"] for a in done["attempts"]] == [500, 200]
    assert receiver.calls[0]["body"] == receiver.calls[1]["body"] == '{"task": 1003}'


def test_gives_up_after_four_retries_and_2xx_is_not_enough(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "any status", "status_changed", receiver.url + "/hooks/task", "{}")
    receiver.statuses = [500, 502, 404, 201, 204]
    pf.post("/task/1003", {"status": {"id": 4}})
    waits = []
    for delay in (900, 1800, 3600, 3600):
        row = settle(pf)[0]
        waits.append(row["next_attempt_at"])
        pf.advance(delay)
    final = settle(pf)[0]
    assert final["state"] == "failed" and final["next_attempt_at"] is None
    assert [a["status"] for a in final["attempts"]] == [500, 502, 404, 201, 204]
    assert waits == ["2024-05-01T10:15:00+00:00", "2024-05-01T10:45:00+00:00", "2024-05-01T11:45:00+00:00",
                     "2024-05-01T12:45:00+00:00"]
    pf.advance(7200)
    assert len(settle(pf)[0]["attempts"]) == 5


def test_a_failure_holds_every_request_for_three_minutes(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "status", "status_changed", receiver.url + "/hooks/task", '"status {{Задача.Номер}}"')
    rule(pf, "comment", "comment_added", receiver.url + "/hooks/comment", '"comment {{Комментарий.Номер}}"')
    receiver.statuses = [503]
    pf.post("/task/1001", {"status": {"id": 3}})
    assert settle(pf)[0]["attempts"][0]["status"] == 503
    pf.post("/task/1001/comments/", {"description": "queued behind the pause"})
    pf.advance(179)
    waiting = settle(pf)[1]
    assert waiting["state"] == "queued" and waiting["attempts"] == []
    assert pf.control("GET", "/deliveries")["queue"]["paused_for"] == 1
    pf.advance(1)
    rows = settle(pf)
    assert rows[1]["state"] == "delivered" and rows[0]["state"] == "queued"  # the retry waits its 15 minutes
    assert [c["path"] for c in receiver.calls] == ["/hooks/task", "/hooks/comment"]


def test_retries_can_be_switched_off(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "once", "status_changed", receiver.url + "/hooks/task", "{}", retries=False)
    receiver.statuses = [500]
    pf.post("/task/1001", {"status": {"id": 3}})
    row = settle(pf)[0]
    assert row["state"] == "failed" and len(row["attempts"]) == 1


def test_requests_leave_one_at_a_time_in_order(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "comment", "comment_added", receiver.url + "/hooks/comment", '{"comment": {{Комментарий.Номер}}}')
    receiver.gate = threading.Event()
    ids = [pf.post("/task/1005/comments/", {"description": f"m{i}"}).json()["id"] for i in range(3)]
    wait_calls(receiver, 1)
    queue = pf.control("GET", "/deliveries")["queue"]
    assert (queue["in_flight"], queue["queued"], len(receiver.calls)) == (1, 2, 1)
    receiver.gate.set()
    rows = settle(pf)
    assert [r["state"] for r in rows] == ["delivered"] * 3
    assert [json.loads(c["body"])["comment"] for c in receiver.calls] == ids
    assert receiver.max_active == 1 and pf.control("GET", "/deliveries")["queue"]["max_in_flight"] == 1


def test_button_press_runs_the_named_scenario_as_the_pressing_user(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "send brief", "button", receiver.url + "/hooks/brief",
         '{"task": {{Задача.Номер}}, "contact": "{{Задача.Контрагент.Идентификатор}}", '
         '"pm": "{{Пользователь.Идентификатор}}", "pm_name": "{{Пользователь}}", "x": "{{Задача.Нет такого поля}}"}')
    pressed = pf.control("POST", "/scenarios/run", {"name": "send brief", "task": 1001, "user": "user:3"})
    assert len(pressed["queued"]) == 1
    row = settle(pf)[0]
    assert row["event"] == "button" and row["unresolved"] == ["Задача.Нет такого поля"]
    assert json.loads(receiver.calls[0]["body"]) == {"task": 1001, "contact": "contact:11", "pm": "user:3",
                                                     "pm_name": "Петров Олег", "x": ""}
    unknown = pf.control("POST", "/scenarios/run", {"name": "no such", "task": 1001, "user": "user:3"})
    assert "error" in unknown


def test_comment_events_loop_back_unless_silent_and_honour_conditions(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "to client", "comment_added", receiver.url + "/hooks/comment",
         '{"comment": {{Комментарий.Номер}}, "text": "{{Комментарий.Текст}}", '
         '"author": "{{Комментарий.Автор.Идентификатор}}", "files": %%% JSONARRAY({{Комментарий.Файлы}}) %%%}',
         when={"comment_owner": "user", "comment_recipient": "contact"})
    for_client = {"description": "Макет готов", "owner": {"id": "user:2"},
                  "recipients": {"users": [{"id": "contact:11"}]}}
    pf.post("/task/1001/comments/", {"description": "from the client", "owner": {"id": "contact:11"}})
    pf.post("/task/1001/comments/", {"description": "internal", "owner": {"id": "user:2"}})
    pf.post("/task/1001/comments/", for_client, silent="true")
    sent = pf.post("/task/1001/comments/", for_client).json()["id"]
    ui = pf.control("POST", "/ui/tasks/1001/comments", {"user": "user:3", "description": "И правки тоже",
                                                        "recipients": {"users": [{"id": "contact:11"}]}})["id"]
    rows = settle(pf)
    assert [json.loads(r["body"])["comment"] for r in rows] == [sent, ui]
    assert json.loads(receiver.calls[1]["body"]) == {"comment": ui, "text": "И правки тоже", "author": "user:3",
                                                     "files": []}


def test_ui_status_change_and_silent_rest_change(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "status", "status_changed", receiver.url + "/hooks/task",
         '{"task": {{Задача.Номер}}, "status": "{{Задача.Статус}}", "by": "{{Пользователь.Номер}}"}')
    pf.post("/task/1002", {"status": {"id": 13}}, silent="true")
    pf.control("POST", "/ui/tasks/1003", {"user": "user:2", "status": {"id": 5}})
    rows = settle(pf)
    assert len(rows) == 1 and json.loads(rows[0]["body"]) == {"task": 1003, "status": "Завершенная", "by": "2"}
    assert pf.control("GET", "/requests")["by_route"] == {"POST /rest/task/<raw_id>": 1}


def test_url_variables_are_encoded_unless_wrapped(pf: Planfix, receiver: Receiver) -> None:
    rule(pf, "created", "task_created", receiver.url + "/hooks/new?name={{Задача.Название}}&raw=%%%{{Задача.Номер}}%%%",
         'name={{Задача.Название::encode=url}}', headers={"Content-Type": "application/x-www-form-urlencoded"})
    task_id = pf.create_task(name="A&B = C")
    settle(pf)
    call = receiver.calls[0]
    assert call["args"] == {"name": "A&B = C", "raw": str(task_id)}
    assert call["body"] == "name=A%26B%20%3D%20C"

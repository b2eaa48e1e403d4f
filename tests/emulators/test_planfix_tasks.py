"""Planfix emulator over real HTTP: auth, envelopes, tasks (get/create/update/202), checklists."""
from __future__ import annotations

import requests

from tests.emulators.test_planfix_fixtures import READONLY_TOKEN, Planfix, pf, pf_server  # noqa: F401

UNKNOWN_TOKEN = {"result": "fail", "code": 1, "error": "Access denied, unknown token"}


def test_ping_and_bearer_auth(pf: Planfix) -> None:
    answer = pf.get("/ping")
    assert answer.status_code == 200
    assert answer.json() == {"result": "success"}
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["X-RateLimit-Remaining"].isdigit()

    missing = requests.get(pf.rest + "/ping")
    assert (missing.status_code, missing.json()) == (401, UNKNOWN_TOKEN)
    wrong = requests.get(pf.rest + "/ping", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()) == (401, UNKNOWN_TOKEN)


def test_access_token_query_parameter_only_for_get(pf: Planfix) -> None:
    from emulators.planfix import DEFAULT_TOKEN

    assert requests.get(pf.rest + "/task/1001", params={"access_token": DEFAULT_TOKEN}).status_code == 200
    posted = requests.post(pf.rest + "/task/list", params={"access_token": DEFAULT_TOKEN}, json={})
    assert posted.status_code == 401


def test_scope_limited_token(pf: Planfix) -> None:
    headers = {"Authorization": f"Bearer {READONLY_TOKEN}"}
    assert requests.get(pf.rest + "/task/1001", headers=headers).status_code == 200
    denied = requests.post(pf.rest + "/task/", headers=headers, json={"name": "x"})
    assert (denied.status_code, denied.json()) == (405, {"result": "fail", "code": 5,
                                                         "error": "Scope denied, method not allowed"})


def test_get_task_returns_only_requested_fields(pf: Planfix) -> None:
    assert pf.get("/task/1001", fields="name").json() == {"result": "success",
                                                          "task": {"id": 1001, "name": "Ромашка: коммуникация"}}
    assert pf.get("/task/1001").json() == {"result": "success", "task": {"id": 1001}}
    task = pf.task(1001, "id,name,status,assignees,auditors,assigner,counterparty,project,101")
    assert task["status"]["name"] == "В работе"
    assert task["status"]["texts"] == [{"lang": "Ru", "name": "В работе"}, {"lang": "En", "name": "In work"}]
    assert task["assignees"] == {"users": [{"id": "user:2", "name": "Смирнова Анна"}], "groups": []}
    assert task["auditors"]["users"][0]["id"] == "user:6"
    assert task["counterparty"] == {"id": "contact:11", "name": "Иванова Алиса"}
    assert task["project"] == {"id": 1}
    assert task["customFieldData"] == [{"field": {"id": 101, "name": "Telegram chat id", "type": 0, "objectType": 0},
                                        "value": "-1001234567890"}]


def test_unknown_task_errors_per_endpoint(pf: Planfix) -> None:
    got = pf.get("/task/999")
    assert (got.status_code, got.json()) == (400, {"result": "fail", "code": 1000, "error": "Task not found by id 999"})
    updated = pf.post("/task/999", {"name": "x"})
    assert (updated.status_code, updated.json()) == (
        404, {"result": "fail", "code": 1000, "error": "Task for update not found by id 999"})
    comments = pf.post("/task/999/comments/list", {})
    assert (comments.status_code, comments.json()["code"]) == (500, 1000)


def test_invalid_json_is_code_30(pf: Planfix) -> None:
    bad = pf.http.post(pf.rest + "/task/", data=b"{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == 30 and bad.json()["result"] == "fail"
    listed = pf.http.post(pf.rest + "/task/list", data=b"[1", headers={"Content-Type": "application/json"})
    assert listed.status_code == 500 and listed.json()["code"] == 30


def test_create_task_with_deadline_people_and_template_checklist(pf: Planfix) -> None:
    answer = pf.post("/task/", {"template": {"id": 22}, "name": "Ромашка: баннеры", "project": {"id": 1},
                                "assigner": {"id": "user:2"}, "assignees": {"users": [{"id": "user:4"}]},
                                "auditors": {"users": [{"id": "user:2"}]}, "endDateTime": {"date": "24-05-2024"},
                                "parent": {"id": 1001}})
    assert answer.status_code == 201
    assert answer.json() == {"result": "success", "id": 1007}
    task = pf.task(1007, "name,status,processId,template,endDateTime,hasEndDate,hasEndTime,assigner,auditors,"
                         "parent,105")
    assert task["status"]["id"] == 1 and task["processId"] == 1 and task["template"] == {"id": 22}
    assert task["endDateTime"] == {"date": "24-05-2024", "time": "00:00", "datetime": "2024-05-24T00:00Z"}
    assert (task["hasEndDate"], task["hasEndTime"]) == (True, False)
    assert task["assigner"]["id"] == "user:2" and task["parent"] == {"id": 1001}
    assert task["customFieldData"][0]["value"] == "Производство"  # default from the template
    items = pf.post("/task/1007/checklist/list", {"fields": "id,name,status"}).json()["items"]
    assert [i["name"] for i in items] == ["Изучить бриф", "Подготовить черновик", "Внутреннее ревью",
                                          "Отправить на согласование"]
    assert set(items[0]) == {"id", "name", "status"} and items[0]["status"]["name"] == "Новая"
    assert pf.create_task(name="next") == 1008  # numbers are sequential


def test_create_with_status_of_another_process_is_code_41(pf: Planfix) -> None:
    answer = pf.post("/task/", {"name": "x", "status": {"id": 12}})
    assert (answer.status_code, answer.json()) == (400, {"result": "fail", "code": 41,
                                                         "error": "Status not find by id 12"})


def test_update_status_completion_and_history(pf: Planfix) -> None:
    answer = pf.post("/task/1003", {"status": {"id": 5}})
    assert (answer.status_code, answer.json()) == (200, {"result": "success"})
    task = pf.task(1003, "status,actualCompletionDate")
    assert task["status"]["name"] == "Завершенная" and task["actualCompletionDate"]["date"] == "01-05-2024"
    all_rows = pf.post("/task/1003/comments/list", {"fields": "id,changeStatus,fromType", "typeList": "All"}).json()
    assert all_rows["comments"][-1]["changeStatus"] == {"newStatusId": 5, "oldStatusId": 3}
    only_comments = pf.post("/task/1003/comments/list", {"fields": "id,changeStatus"}).json()["comments"]
    assert all("changeStatus" not in c for c in only_comments)
    wrong = pf.post("/task/1003", {"status": {"id": 13}})
    assert (wrong.status_code, wrong.json()["code"]) == (400, 41)


def test_update_reports_failures_and_applies_the_rest(pf: Planfix) -> None:
    answer = pf.post("/task/1001", {"name": "Renamed", "counterparty": {"id": "contact:999"},
                                    "customFieldData": [{"field": {"id": 104}, "value": "not a number"}]})
    assert answer.status_code == 200
    failed = "Field change failed"
    assert answer.json() == {"result": "success", "failures": [{"field": "counterparty", "error": failed},
                                                               {"field": "104", "error": failed}]}
    assert pf.task(1001, "name,counterparty") == {"id": 1001, "name": "Renamed",
                                                   "counterparty": {"id": "contact:11", "name": "Иванова Алиса"}}


def test_clearing_dates(pf: Planfix) -> None:
    pf.post("/task/1003", {"hasEndDate": False})
    assert pf.task(1003, "endDateTime,hasEndDate") == {"id": 1003, "hasEndDate": False}


def test_queued_update_answers_202_and_applies_later(pf: Planfix) -> None:
    pf.control("POST", "/knobs", {"defer_updates": 1, "defer_seconds": 5})
    answer = pf.post("/task/1004", {"status": {"id": 2}})
    assert answer.status_code == 202 and answer.content == b""
    assert pf.task(1004, "status")["status"]["id"] == 1  # not yet
    pf.advance(5)
    assert pf.task(1004, "status")["status"]["id"] == 2
    assert pf.post("/task/1004", {"status": {"id": 3}}).status_code == 200  # the knob was for one call


def test_scripted_api_error_and_html_faults(pf: Planfix) -> None:
    pf.control("POST", "/knobs", {"error_script": [{"path": "/task/list", "status": 500, "code": 0}]})
    failed = pf.post("/task/list", {})
    assert (failed.status_code, failed.json()) == (500, {"result": "fail", "code": 0, "error": "Rest API error"})
    assert pf.post("/task/list", {}).status_code == 200
    pf.control("POST", "/faults", {"script": ["502"]})
    page = pf.get("/ping")
    assert page.status_code == 502 and "text/html" in page.headers["Content-Type"]
    assert pf.get("/ping").status_code == 200


def test_templates_and_saved_filters(pf: Planfix) -> None:
    templates = pf.get("/task/templates", fields="id,name,type").json()["templates"]
    assert [t["id"] for t in templates] == [20, 21, 22, 23] and templates[0]["type"] == "Template"
    filters = pf.post("/task/filters").json()["filters"]
    assert {"id": ":all", "name": "All"} in filters


def test_reset_and_state_dump(pf: Planfix) -> None:
    pf.create_task(name="temporary")
    assert any(t["name"] == "temporary" for t in pf.control("GET", "/state")["tasks"])
    pf.control("POST", "/reset")
    assert all(t["name"] != "temporary" for t in pf.control("GET", "/state")["tasks"])
    assert pf.create_task(name="again") == 1007

"""Contacts (brief answers in custom fields), employees, processes/statuses, field definitions."""
from __future__ import annotations

from tests.emulators.test_planfix_fixtures import Planfix, pf, pf_server  # noqa: F401


def test_get_contact_by_bare_or_prefixed_id(pf: Planfix) -> None:
    for raw in ("11", "contact:11"):
        got = pf.get(f"/contact/{raw}", fields="name,lastname,telegram,telegramId,phones,companies,209").json()
        assert got["result"] == "success"
        contact = got["contact"]
        assert contact["id"] == 11 and contact["telegramId"] == "123456789"
        assert contact["phones"] == [{"number": "89161234567", "maskedNumber": "+8 (916) 123-45-67", "type": 1}]
        assert contact["companies"] == [{"id": 10, "name": "ООО Ромашка"}]
        assert contact["customFieldData"][0]["value"] == "-1001234567890"
    missing = pf.get("/contact/404")
    assert (missing.status_code, missing.json()) == (404, {"result": "fail", "code": 2000,
                                                           "error": "Contact not found by id 404"})


def test_create_contact_and_fill_brief_answers(pf: Planfix) -> None:
    created = pf.post("/contact/", {"name": "Ирина", "lastname": "Котова", "telegramId": "42", "telegram": "@irina",
                                    "phones": [{"number": "+79990001122", "type": 1}]})
    assert created.status_code == 201 and created.json() == {"result": "success", "id": 101}
    brief = [{"field": {"id": 201}, "value": "ООО Лотос"}, {"field": {"id": 202}, "value": "https://lotos.example"},
             {"field": {"id": 203}, "value": "+7 999 000-11-22"}, {"field": {"id": 204}, "value": "i@lotos.example"},
             {"field": {"id": 205}, "value": 300000}, {"field": {"id": 206}, "value": {"date": "01-07-2024"}},
             {"field": {"id": 207}, "value": "Лендинг для акции"}, {"field": {"id": 208}, "value": "Telegram"},
             {"field": {"id": 210}, "value": True}]
    updated = pf.post("/contact/contact:101", {"customFieldData": brief})
    assert (updated.status_code, updated.json()) == (200, {"result": "success"})
    data = pf.get("/contact/101", fields="name,201,205,206,208,210").json()["contact"]["customFieldData"]
    assert [d["value"] for d in data] == ["ООО Лотос", 300000, {"date": "01-07-2024", "time": "00:00",
                                                                  "datetime": "2024-07-01T00:00Z"}, "Telegram", True]
    assert data[0]["field"] == {"id": 201, "name": "Компания", "type": 0, "objectType": 1}


def test_contact_errors(pf: Planfix) -> None:
    nameless = pf.post("/contact/", {"email": "x@example.com"})
    assert (nameless.status_code, nameless.json()) == (400, {"result": "fail", "code": 2001, "error": "Rest API error"})
    missing = pf.post("/contact/999", {"name": "x"})
    assert (missing.status_code, missing.json()) == (404, {"result": "fail", "code": 2000,
                                                           "error": "Contact for update not found by id 999"})
    partial = pf.post("/contact/11", {"position": "CEO", "customFieldData": [{"field": {"id": 208}, "value": "Fax"}]})
    assert partial.json() == {"result": "success", "failures": [{"field": "208", "error": "Field change failed"}]}
    assert pf.get("/contact/11", fields="position").json()["contact"]["position"] == "CEO"


def test_employees(pf: Planfix) -> None:
    user = pf.get("/user/user:2", fields="name,lastname,email,telegramId,groups,position,role,status").json()["user"]
    assert user == {"id": 2, "name": "Анна", "lastname": "Смирнова", "email": "anna@studio.example",
                    "telegramId": "5550001", "groups": [{"id": 1, "name": "Менеджеры проектов"}],
                    "position": user["position"], "role": "User", "status": "Active"}
    assert user["position"]["name"] == "Менеджер проекта"
    listed = pf.post("/user/list", {"fields": "id,name", "filters": [{"type": 9001, "operator": "equal",
                                                                     "value": 1}]}).json()
    assert listed == {"result": "success", "users": [{"id": 2, "name": "Анна"}, {"id": 3, "name": "Олег"}]}
    by_tg = pf.post("/user/list", {"fields": "id", "prefixedId": True,
                                   "filters": [{"type": 9126, "operator": "equal", "value": 5550002}]}).json()
    assert by_tg["users"] == [{"id": "user:3"}]
    missing = pf.get("/user/77")
    assert (missing.status_code, missing.json()["code"]) == (400, 4000)
    assert pf.get("/user/groups").json()["groups"][1] == {"id": 2, "name": "Производство"}


def test_processes_and_statuses(pf: Planfix) -> None:
    assert pf.get("/process/task").json() == {"result": "success", "processes": [
        {"id": 1, "name": "Клиентский проект"}, {"id": 2, "name": "Оплата"}]}
    statuses = pf.get("/process/task/1/statuses",
                      fields="id,name,color,isActive,hasDeadline,isAppliedIndividually,texts").json()["statuses"]
    assert [s["name"] for s in statuses] == ["Новая", "В работе", "На согласовании", "Требуются правки",
                                             "Завершенная", "Отменена"]
    assert statuses[4] == {"id": 5, "name": "Завершенная", "color": "#5cb85c", "isActive": False, "hasDeadline": True,
                           "isAppliedIndividually": False,
                           "texts": [{"lang": "Ru", "name": "Завершенная"}, {"lang": "En", "name": "Completed"}]}
    assert pf.get("/process/task/2/statuses", fields="id,name").json()["statuses"][0] == {"id": 11,
                                                                                         "name": "Выставлен счет"}


def test_custom_field_definitions(pf: Planfix) -> None:
    types = pf.get("/customfield/type").json()["customFieldTypes"]
    assert {"id": 14, "name": "List of users"} in types and types[0] == {"id": 0, "name": "Line"}
    task_fields = pf.get("/customfield/task").json()["customfields"]
    assert task_fields[0] == {"id": 101, "name": "Telegram chat id", "type": 0, "objectType": 0}
    assert {"id": 105, "name": "Тип задачи", "type": 8, "objectType": 0,
            "enumValues": ["Коммуникация", "Оплата", "Производство"]} in task_fields
    of_template = pf.get("/customfield/task/21").json()["customfields"]
    assert [f["id"] for f in of_template] == [104, 105, 108]
    contact_fields = pf.get("/customfield/contact").json()["customfields"]
    assert [f["id"] for f in contact_fields][:3] == [201, 202, 203] and contact_fields[0]["objectType"] == 1
    assert [f["id"] for f in pf.get("/customfield/datatag/4").json()["customfields"]] == [401, 402, 403, 404, 405, 406]

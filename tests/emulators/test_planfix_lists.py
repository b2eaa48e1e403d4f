"""`POST /task/list` and `/contact/list`: filters, paging, saved filters, the polling date filters."""
from __future__ import annotations

from typing import Any

from tests.emulators.test_planfix_fixtures import Planfix, pf, pf_server  # noqa: F401


def ids(pf: Planfix, *filters: dict[str, Any], **extra: Any) -> list[int]:
    answer = pf.post("/task/list", {"offset": 0, "pageSize": 100, "fields": "id", "filters": list(filters), **extra})
    assert answer.status_code == 200, answer.text
    return [t["id"] for t in answer.json()["tasks"]]


def test_list_shape_and_field_selection(pf: Planfix) -> None:
    answer = pf.post("/task/list", {"fields": "id,name,status", "filters": [{"type": 57, "operator": "equal",
                                                                            "value": 1002}]}).json()
    assert answer["result"] == "success"
    assert answer["tasks"] == [{"id": 1002, "name": "Ромашка: оплата этапа 1",
                                "status": {"id": 12, "name": "Ожидает оплаты", "color": "#4573b1", "isActive": True,
                                           "hasDeadline": True, "isAppliedIndividually": False,
                                           "texts": [{"lang": "Ru", "name": "Ожидает оплаты"},
                                                     {"lang": "En", "name": "Awaiting payment"}]}}]


def test_templates_are_not_listed(pf: Planfix) -> None:
    assert ids(pf) == [1001, 1002, 1003, 1004, 1005, 1006]


def test_status_people_project_template_number_filters(pf: Planfix) -> None:
    assert ids(pf, {"type": 10, "operator": "equal", "value": [2, 3]}) == [1001, 1003, 1006]
    assert ids(pf, {"type": 10, "operator": "equal", "value": 12}) == [1002]
    assert ids(pf, {"type": 10, "operator": "notequal", "value": [1, 2, 3]}) == [1002]
    assert ids(pf, {"type": 2, "operator": "equal", "value": "user:4"}) == [1003, 1006]
    assert ids(pf, {"type": 3, "operator": "equal", "value": "user:2"}) == [1003, 1004]
    assert ids(pf, {"type": 1, "operator": "equal", "value": "user:3"}) == [1005, 1006]
    assert ids(pf, {"type": 5, "operator": "equal", "value": "2"}) == [1005, 1006]
    assert ids(pf, {"type": 51, "operator": "equal", "value": [20, 21]}) == [1001, 1002, 1005]
    assert ids(pf, {"type": 57, "operator": "equal", "value": [1003, 1005]}) == [1003, 1005]
    assert ids(pf, {"type": 73, "operator": "equal", "value": 1001}) == [1003, 1004]
    assert ids(pf, {"type": 24, "operator": "equal", "value": "2"}) == [1002]
    assert ids(pf, {"type": 7, "operator": "equal", "value": "contact:13"}) == [1005]
    assert ids(pf, {"type": 8, "operator": "equal", "value": "вектор"}) == [1005, 1006]
    # filters are ANDed
    assert ids(pf, {"type": 5, "operator": "equal", "value": 1},
               {"type": 10, "operator": "equal", "value": 1}) == [1004]


def test_custom_field_filters(pf: Planfix) -> None:
    assert ids(pf, {"type": 101, "field": 101, "operator": "equal", "value": "-1009876543210"}) == [1005]
    assert ids(pf, {"type": 105, "field": 102, "operator": "equal", "value": True}) == [1001, 1005]
    assert ids(pf, {"type": 102, "field": 104, "operator": "gt", "value": 100000}) == [1002]
    assert ids(pf, {"type": 106, "field": 105, "operator": "equal", "value": "Производство"}) == [1003, 1004, 1006]
    assert ids(pf, {"type": 107, "field": 110, "operator": "equal", "value": "1 // Directory entry key"}) == [1003]
    assert ids(pf, {"type": 108, "field": 106, "operator": "equal", "value": "contact:11"}) == [1001]
    assert ids(pf, {"type": 113, "field": 111, "operator": "equal", "value": "contact:11"}) == [1003]
    assert ids(pf, {"type": 152, "operator": "equal", "value": 103}) == [1005]
    assert ids(pf, {"type": 153, "operator": "equal", "field": 101, "value": 101}) == [1002, 1003, 1004, 1006]


def test_paging_caps_page_size_at_100(pf: Planfix) -> None:
    for n in range(120):
        pf.create_task(name=f"bulk {n}")
    first = ids(pf, pageSize=500)
    assert len(first) == 100
    rest = ids(pf, offset=100, pageSize=100)
    assert len(rest) == 26 and set(first).isdisjoint(rest)


def test_polling_by_last_change_date_has_minute_precision(pf: Planfix) -> None:
    since = {"type": 79, "operator": "gt", "value": {"dateType": "otherDate_withTime", "dateFrom": "01-05-2024 10:00"}}
    assert ids(pf, since) == []
    pf.advance(30)  # 10:00:30 is still "10:00" to Planfix
    pf.post("/task/1004", {"name": "touched"})
    assert ids(pf, since) == []
    pf.advance(60)
    pf.post("/task/1005/comments/", {"description": "a comment counts for 79, not for 38"})
    assert ids(pf, since) == [1005]
    assert ids(pf, {**since, "type": 38}) == []
    assert len(ids(pf, {"type": 38, "operator": "equal", "value": {"dateType": "today"}})) == 6  # seeded today
    assert ids(pf, {"type": 38, "operator": "equal", "value": {"dateType": "yesterday"}}) == []


def test_deadline_and_created_date_filters(pf: Planfix) -> None:
    may = {"dateType": "otherRange", "dateFrom": "01-05-2024", "dateTo": "10-05-2024"}
    assert ids(pf, {"type": 14, "operator": "equal", "value": may}) == [1002, 1003]
    assert ids(pf, {"type": 14, "operator": "gt", "value": {"dateType": "otherDate", "dateValue": "10-05-2024"}}) \
        == [1004, 1006]
    assert ids(pf, {"type": 12, "operator": "equal", "value": {"dateType": "yesterday"}}) == []


def test_saved_filter_and_errors(pf: Planfix) -> None:
    assert ids(pf, filterId=":all") == [1001, 1002, 1003, 1004, 1005, 1006]
    assert ids(pf, filterId=":out") == []  # the robot assigned nothing
    bad = pf.post("/task/list", {"filters": [{"type": 99999, "operator": "equal", "value": 1}]})
    assert (bad.status_code, bad.json()["result"], bad.json()["code"]) == (400, "fail", 41)


def test_contact_list_filters(pf: Planfix) -> None:
    def contacts(*filters: dict[str, Any], **extra: Any) -> list[Any]:
        body = {"fields": "id,name,telegram,telegramId", "filters": list(filters), **extra}
        return [c["id"] for c in pf.post("/contact/list", body).json()["contacts"]]

    assert contacts() == [11, 13]  # isCompany defaults to false: people only
    assert contacts(isCompany=True) == [10, 12]
    assert contacts({"type": 4234, "operator": "equal", "value": 123456789}) == [11]
    assert contacts({"type": 4226, "operator": "equal", "value": "boris_vector"}) == [13]
    assert contacts({"type": 4003, "operator": "equal", "value": "+7 916 123-45-67"}) == [11]
    assert contacts({"type": 4005, "operator": "equal", "value": "romashka"}) == [11]
    assert contacts({"type": 4101, "field": 209, "operator": "equal", "value": "-1009876543210"}) == [13]
    assert contacts(prefixedId=True) == ["contact:11", "contact:13"]
    found = pf.post("/contact/list", {"pageSize": 1, "fields": "id,name,lastname,telegram,telegramId",
                                      "filters": [{"type": 4234, "operator": "equal", "value": "123456789"}]}).json()
    assert found == {"result": "success", "contacts": [{"id": 11, "name": "Алиса", "lastname": "Иванова",
                                                        "telegram": "@alice_romashka", "telegramId": "123456789"}]}

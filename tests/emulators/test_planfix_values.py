"""Custom-field values round-trip: every write shape of the spec in, the documented read shape out."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.emulators.test_planfix_fixtures import Planfix, demo_seed, start

FIELDS = [
    {"id": 910, "name": "Line", "type": 0}, {"id": 911, "name": "Number", "type": 1},
    {"id": 912, "name": "Text", "type": 2}, {"id": 913, "name": "Date", "type": 3},
    {"id": 914, "name": "Time", "type": 4}, {"id": 915, "name": "Date and time", "type": 5},
    {"id": 916, "name": "Period", "type": 6}, {"id": 917, "name": "Checkbox", "type": 7},
    {"id": 918, "name": "List", "type": 8, "enumValues": ["Enum value", "Other"]},
    {"id": 919, "name": "Directory entry", "type": 9, "directoryId": 1},
    {"id": 920, "name": "Contact", "type": 10}, {"id": 921, "name": "Employee", "type": 11},
    {"id": 922, "name": "Counterparty", "type": 12}, {"id": 923, "name": "Group, employee or contact", "type": 13},
    {"id": 924, "name": "List of users", "type": 14},
    {"id": 925, "name": "Set of directory values", "type": 15, "directoryId": 1},
    {"id": 926, "name": "Task", "type": 16}, {"id": 927, "name": "Task set", "type": 17},
    {"id": 930, "name": "Set of values", "type": 20}, {"id": 931, "name": "Files", "type": 21},
    {"id": 932, "name": "Project", "type": 22}, {"id": 934, "name": "Calculated", "type": 24},
    {"id": 935, "name": "Location", "type": 25},
]

CASES: list[tuple[int, Any, Any]] = [
    (910, "Test value", "Test value"),
    (911, 99, 99),
    (911, "12,5", 12.5),
    (912, "line one\nline two", "line one\nline two"),
    (913, {"date": "11-11-2021"}, {"date": "11-11-2021", "time": "00:00", "datetime": "2021-11-11T00:00Z"}),
    (914, {"time": "17:55"}, {"time": "17:55"}),
    (915, "21-12-2021 12:15:00", {"date": "21-12-2021", "time": "12:15"}),
    (915, {"date": "12-12-2021", "time": "12:15"}, {"date": "12-12-2021", "time": "12:15"}),
    (916, {"from": {"time": "01:15"}, "to": {"time": "04:40"}}, {"from": {"time": "01:15"}, "to": {"time": "04:40"}}),
    (917, True, True),
    (918, "Enum value", "Enum value"),
    (919, {"id": 2}, {"id": 2, "value": "Разработка"}),
    (919, {"id": "3"}, {"id": 3, "value": "Менеджмент"}),
    (920, {"id": "contact:13"}, {"id": "contact:13", "name": "Сидоров Борис"}),
    (920, {"id": 11}, {"id": "contact:11", "name": "Иванова Алиса"}),
    (921, {"id": "user:3"}, {"id": "user:3", "name": "Петров Олег"}),
    (921, {"id": 4}, {"id": "user:4", "name": "Кузнецов Игорь"}),
    (922, {"id": 10}, {"id": "contact:10", "name": "ООО Ромашка"}),
    (923, {"id": "group:1"}, {"id": "group:1", "name": "Менеджеры проектов"}),
    (924, [{"id": "user:2"}, {"id": "contact:11"}, {"id": "group:2"}],
     [{"id": "user:2", "name": "Смирнова Анна"}, {"id": "contact:11", "name": "Иванова Алиса"},
      {"id": "group:2", "name": "Производство"}]),
    (925, [{"id": 1}, {"id": 2}], [{"id": 1, "value": "Дизайн"}, {"id": 2, "value": "Разработка"}]),
    (926, {"id": 1001}, {"id": 1001, "name": "Ромашка: коммуникация"}),
    (927, [{"id": 1001}, {"id": 1002}], [{"id": 1001, "name": "Ромашка: коммуникация"},
                                         {"id": 1002, "name": "Ромашка: оплата этапа 1"}]),
    (930, ["First element", "Two element"], ["First element", "Two element"]),
    (932, {"id": 1}, {"id": 1, "name": "Ромашка — сайт"}),
    (935, {"address": "New York", "longitude": 40.71, "latitude": -74.0},
     {"address": "New York", "longitude": 40.71, "latitude": -74.0}),
]


@pytest.fixture(scope="module")
def values_server() -> Iterator[Planfix]:
    seed = demo_seed()
    seed["custom_fields"]["task"] += FIELDS
    emulator, stop = start(seed)
    try:
        yield emulator
    finally:
        stop()


@pytest.fixture
def pf(values_server: Planfix) -> Planfix:
    return values_server.fresh()


def read(pf: Planfix, task_id: int, field_id: int) -> dict[str, Any]:
    data = pf.task(task_id, str(field_id))["customFieldData"]
    assert len(data) == 1 and data[0]["field"]["id"] == field_id
    return data[0]


@pytest.mark.parametrize(("field_id", "written", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_create_then_read(pf: Planfix, field_id: int, written: Any, expected: Any) -> None:
    task_id = pf.create_task(name="values", customFieldData=[{"field": {"id": field_id}, "value": written}])
    item = read(pf, task_id, field_id)
    assert item["value"] == expected
    assert item["field"]["type"] == next(f["type"] for f in FIELDS if f["id"] == field_id)
    assert item["field"]["objectType"] == 0


@pytest.mark.parametrize(("field_id", "written", "expected"), CASES[::3], ids=[f"{c[0]}" for c in CASES[::3]])
def test_update_then_read(pf: Planfix, field_id: int, written: Any, expected: Any) -> None:
    answer = pf.post("/task/1004", {"customFieldData": [{"field": {"id": field_id}, "value": written}]})
    assert answer.json() == {"result": "success"}
    assert read(pf, 1004, field_id)["value"] == expected


def test_files_field_and_field_head_extras(pf: Planfix) -> None:
    file_id = pf.http.post(pf.rest + "/file/", files={"file": ("brief.pdf", b"%PDF-1.4")}).json()["id"]
    task_id = pf.create_task(name="files", customFieldData=[{"field": {"id": 931}, "value": [file_id]}])
    assert read(pf, task_id, 931)["value"] == [file_id]
    head = read(pf, 1003, 110)["field"]
    assert head == {"id": 110, "name": "Вид работ", "type": 9, "objectType": 0, "directoryId": 1}


def test_clearing_and_empty_values(pf: Planfix) -> None:
    pf.post("/task/1003", {"customFieldData": [{"field": {"id": 110}, "value": {"id": 0}}]})
    assert read(pf, 1003, 110)["value"] is None
    assert read(pf, 1004, 910)["value"] == ""  # never set
    assert read(pf, 1004, 924)["value"] == []


def test_bad_values(pf: Planfix) -> None:
    created = pf.post("/task/", {"name": "x", "customFieldData": [{"field": {"id": 918}, "value": "Not an option"}]})
    assert (created.status_code, created.json()["code"]) == (400, 41)
    unknown = pf.post("/task/", {"name": "x", "customFieldData": [{"field": {"id": 201}, "value": "contact field"}]})
    assert (unknown.status_code, unknown.json()["code"]) == (400, 41)
    updated = pf.post("/task/1004", {"customFieldData": [
        {"field": {"id": 918}, "value": "Not an option"}, {"field": {"id": 934}, "value": "read-only"},
        {"field": {"id": 921}, "value": {"id": "contact:11"}}, {"field": {"id": 910}, "value": "fine"}]})
    assert updated.status_code == 200
    assert [f["field"] for f in updated.json()["failures"]] == ["918", "934", "921"]
    assert read(pf, 1004, 910)["value"] == "fine"

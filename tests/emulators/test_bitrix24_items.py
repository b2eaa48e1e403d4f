"""crm.item.* (deals and smart processes), tasks, timeline comments, notifications, the demo seed."""
from __future__ import annotations

from tests.emulators.test_bitrix24_support import Emu, demo, demo_server, emu, emu_server  # noqa: F401


def test_demo_seed_has_the_linked_deal_setup(demo: Emu) -> None:
    categories = {c["id"]: c["name"] for c in demo.result("crm.category.list", {"entityTypeId": 2})["categories"]}
    assert categories == {0: "Продажи", 1: "Логистика", 2: "Инжиниринг"}
    sales = {s["NAME"]: s["STATUS_ID"] for s in demo.result("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})}
    assert sales["Оценить"] == "UC_EVALUATE" and sales["Оценка готова"] == "UC_ESTIMATE_READY"
    for n in (1, 2):
        stages = {s["NAME"]: s["STATUS_ID"] for s in demo.result("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{n}"}})}
        assert stages["На согласовании"] == f"C{n}:UC_APPROVAL"
    fields = demo.result("crm.deal.fields")
    for name in ("UF_CRM_PARENT_DEAL", "UF_CRM_CHILD_DEALS", "UF_CRM_CHILD_STAGE", "UF_CRM_COST_PRICE",
                 "UF_CRM_PLANNED_DEADLINE", "UF_CRM_ACTUAL_DONE", "UF_CRM_DEADLINE_MISSED", "UF_CRM_ESTIMATED_BY",
                 "UF_CRM_ESTIMATE_HOURS"):
        assert name in fields
    child = demo.result("crm.deal.get", {"id": 5})
    parent = demo.result("crm.deal.get", {"id": 2})
    assert child["UF_CRM_PARENT_DEAL"] == "2" and parent["UF_CRM_CHILD_DEALS"] == ["5"]
    assert child["STAGE_ID"] == "C1:UC_APPROVAL" and child["UF_CRM_PLANNED_DEADLINE"] == "2024-06-10T03:00:00+03:00"
    assert demo.call("crm.company.list", {})["total"] == 4 and demo.call("crm.contact.list", {})["total"] == 3


def test_item_api_reads_the_same_deal_typed(demo: Emu) -> None:
    item = demo.result("crm.item.get", {"entityTypeId": 2, "id": 5})["item"]
    assert item["id"] == 5 and item["categoryId"] == 1 and item["stageId"] == "C1:UC_APPROVAL"
    assert item["opportunity"] == 0.0 and item["companyId"] == 1 and item["contactId"] == 0
    assert item["ufCrmParentDeal"] == "2" and item["entityTypeId"] == 2 and "updatedTime" in item
    original = demo.result("crm.item.get", {"entityTypeId": 2, "id": 5, "useOriginalUfNames": "Y"})["item"]
    assert original["UF_CRM_PARENT_DEAL"] == "2"


def test_item_update_moves_deal_between_pipelines(demo: Emu) -> None:
    item = demo.result("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {"categoryId": 2}})["item"]
    assert item["categoryId"] == 2 and item["stageId"] == "C2:NEW"
    deal = demo.result("crm.deal.get", {"id": 1})
    assert deal["CATEGORY_ID"] == "2" and deal["STAGE_ID"] == "C2:NEW"


def test_smart_process_items_link_to_deals(demo: Emu) -> None:
    assert demo.result("crm.type.list")["types"][0]["entityTypeId"] == 1036
    created = demo.result("crm.item.add", {"entityTypeId": 1036, "fields": {"title": "Proposal", "parentId2": 1}})["item"]
    assert created["parentId2"] == 1 and created["stageId"] == "DT1036_10:NEW" and created["categoryId"] == 10
    body = demo.call("crm.item.list", {"entityTypeId": 1036, "filter": {"parentId2": 1}, "select": ["id", "title"]})
    assert body["result"]["items"] == [{"id": created["id"], "title": "Proposal", "entityTypeId": 1036}]
    assert body["total"] == 1 and "next" not in body
    stages = demo.result("crm.status.list", {"filter": {"ENTITY_ID": "DYNAMIC_1036_STAGE_10"}})
    assert [s["STATUS_ID"] for s in stages][-1] == "DT1036_10:FAIL"
    assert demo.result("crm.item.delete", {"entityTypeId": 1036, "id": created["id"]}) == []


def test_item_list_engine_paging(emu: Emu) -> None:
    for i in range(60):
        emu.result("crm.item.add", {"entityTypeId": 2, "fields": {"title": f"I{i}"}})
    first = emu.call("crm.item.list", {"entityTypeId": 2, "select": ["id"]})
    assert len(first["result"]["items"]) == 50 and first["next"] == 50 and first["total"] == 60
    fast = emu.call("crm.item.list", {"entityTypeId": 2, "select": ["id"], "start": -1})
    assert "total" not in fast and "next" not in fast


def test_item_boolean_quirk(emu: Emu) -> None:
    emu.result("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "FLAG", "USER_TYPE_ID": "boolean"}})
    yes = emu.result("crm.item.add", {"entityTypeId": 2, "fields": {"ufCrmFlag": "Y"}})["item"]
    one = emu.result("crm.item.add", {"entityTypeId": 2, "fields": {"ufCrmFlag": 1}})["item"]
    assert yes["ufCrmFlag"] == "Y" and one["ufCrmFlag"] == "N"  # crm.item treats 1 as false


def test_tasks(demo: Emu) -> None:
    r = demo.post("tasks.task.add", json={"fields": {"RESPONSIBLE_ID": 3}})
    assert r.status_code == 400 and r.json() == {"error": "ERROR_CORE", "error_description": "Task title not specified<br>"}
    task = demo.result("tasks.task.add", {"fields": {"TITLE": "Estimate", "RESPONSIBLE_ID": 3,
                                                     "DEADLINE": "2024-06-10T18:00:00+03:00", "UF_CRM_TASK": ["D_5"]}})["task"]
    assert task["title"] == "Estimate" and task["status"] == "2" and task["responsibleId"] == "3"
    assert task["deadline"] == "2024-06-10T18:00:00+03:00" and "ufCrmTask" not in task
    updated = demo.result("tasks.task.update", {"taskId": task["id"], "fields": {"STATUS": 5}})["task"]
    assert updated["status"] == "5" and updated["closedDate"] is not None
    got = demo.result("tasks.task.get", {"taskId": task["id"], "select": ["*", "UF_CRM_TASK"]})["task"]
    assert got["ufCrmTask"] == ["D_5"]
    listed = demo.call("tasks.task.list", {"filter": {"UF_CRM_TASK": "D_5"}})
    assert [t["id"] for t in listed["result"]["tasks"]] == [task["id"]]


def test_timeline_comment_and_notifications(demo: Emu) -> None:
    r = demo.post("crm.timeline.comment.add", json={"FIELDS": {"ENTITY_ID": 2, "ENTITY_TYPE": "deal", "COMMENT": "x"}})
    assert r.status_code == 400  # only lowercase `fields` is accepted
    comment = demo.result("crm.timeline.comment.add", {"fields": {"ENTITY_ID": 2, "ENTITY_TYPE": "deal", "COMMENT": "Оценка готова"}})
    assert isinstance(comment, int)
    r = demo.post("crm.timeline.comment.add", json={"fields": {"ENTITY_ID": 999, "ENTITY_TYPE": "deal", "COMMENT": "x"}})
    assert r.json()["error"] == "OWNER_NOT_FOUND"
    note = demo.result("im.notify.system.add", {"USER_ID": 2, "MESSAGE": "Estimate ready"})
    assert isinstance(note, int)
    assert demo.post("im.notify.personal.add", json={"MESSAGE": "x"}).json()["error"] == "USER_ID_EMPTY"
    assert demo.control("GET", "notifications")[0]["MESSAGE"] == "Estimate ready"
    assert demo.result("crm.activity.todo.add", {"ownerTypeId": 2, "ownerId": 2, "deadline": "2025-02-03T15:00:00",
                                                 "title": "Call"})["id"] >= 1


def test_users_and_profile(demo: Emu) -> None:
    assert demo.result("profile")["ID"] == "1"
    users = demo.result("user.get", {"ID": 3})
    assert users[0]["LAST_NAME"] == "Логистов"
    assert "crm.deal.get" in demo.result("methods") and "crm" in demo.result("scope")


def test_demo_enumeration_and_boolean_fields(demo: Emu) -> None:
    items = {f["FIELD_NAME"]: f for f in demo.result("crm.deal.userfield.list", {})}["UF_CRM_PRIORITY"]["LIST"]
    assert demo.result("crm.deal.get", {"id": 2})["UF_CRM_PRIORITY"] == items[0]["ID"]  # seeded by text
    assert demo.result("crm.deal.get", {"id": 1})["UF_CRM_PRIORITY"] == items[1]["ID"]  # DEF=Y default
    demo.result("crm.deal.update", {"id": 5, "fields": {"UF_CRM_DEADLINE_MISSED": "Y", "UF_CRM_DEPARTMENT": "Логистика"}})
    deal = demo.result("crm.deal.get", {"id": 5})
    assert deal["UF_CRM_DEADLINE_MISSED"] == "1" and deal["UF_CRM_DEPARTMENT"] == "Логистика"

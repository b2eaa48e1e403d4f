"""Bitrix24 ↔ Planfix (S25) end to end: a deal reaching «Договор» in the emulated portal gets one task in
the emulated Planfix account, linked both ways; the task's status changes come back as deal timeline
comments and a deal field; the relay's own writes, echoed back by both systems, change nothing."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from relay.store.schema import DeadLetter, Effect, InboxEvent
from tests.connectors.bridge_support import Bridge, bridge, planfix_server
from tests.support.planfix import post_hook

__all__ = ["bridge", "planfix_server"]
LINK = "https://demo-company.bitrix24.ru/crm/deal/details/1/"


def effects(bridge: Bridge) -> dict[str, int]:
    """What the relay wrote, by action (every outbound write is one effect)."""
    with bridge.runtime.store.session() as s:
        return dict(s.execute(select(Effect.action, func.count()).where(Effect.status == "done").group_by(Effect.action)).all())


def custom(task: dict[str, Any], field_id: int) -> Any:
    return next((c["value"] for c in task.get("customFieldData") or [] if c["field"]["id"] == field_id), None)


def test_a_deal_in_contract_gets_one_task_linked_both_ways(bridge: Bridge) -> None:
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    [task] = bridge.tasks()
    assert task["name"] == "Сайт для Ромашки"
    assert [u["id"] for u in task["assignees"]["users"]] == ["user:2"]     # Bitrix24 user 2 → Planfix user:2 (values.users)
    assert (custom(task, 103), custom(task, 104)) == ("1", 250000)         # Сделка Bitrix24, Сумма счета
    assert task["endDateTime"]["date"] == "28-06-2024"
    assert LINK in task["description"] and "Нужен к лету" in task["description"]
    deal = bridge.deal(1)
    assert (deal["UF_CRM_PLANFIX_TASK"], deal["UF_CRM_PLANFIX_STATUS"]) == (str(task["id"]), "Новая")
    links = bridge.runtime.links
    assert links.get("planfix.task", "bitrix24:deal:1") == str(task["id"])
    assert links.keys_for("planfix.task", str(task["id"])) == ["bitrix24:deal:1"]
    # Echoes: the deal update and Planfix's "task created" request came back and changed nothing
    # a rule sees. DATE_MODIFY moves when the write lands in a later second than the first read.
    readbacks = bridge.steps("read-back")
    echoes = [m for m in readbacks if m.startswith(("deal 1: no change (echo of own write: ", "deal 1: DATE_MODIFY (echo of own write: "))]
    assert len(echoes) == 1 and "UF_CRM_PLANFIX_STATUS" in echoes[0] and "UF_CRM_PLANFIX_TASK" in echoes[0], readbacks
    assert f"task {task['id']} (Новая): no change" in readbacks
    assert bridge.timeline(1) == []
    assert effects(bridge) == {"planfix_sync_task": 1, "update_entity": 1}
    assert bridge.planfix_writes() == {"POST /rest/task/": 1}
    assert bridge.events("dead") == 0


def test_status_changes_come_back_to_the_deal(bridge: Bridge) -> None:
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    [task] = bridge.tasks()
    url = f"{bridge.pf.url}/task/{task['id']}"
    bridge.status(task["id"], 2)
    bridge.settle()
    bridge.status(task["id"], 3)
    bridge.settle()
    assert bridge.timeline(1) == [f"Задача в Planfix «Сайт для Ромашки»: статус «В работе» (был «Новая»).\n{url}",
                                  f"Задача в Planfix «Сайт для Ромашки»: статус «На согласовании» (был «В работе»).\n{url}"]
    assert bridge.deal(1)["UF_CRM_PLANFIX_STATUS"] == "На согласовании"
    # The deal updates caused by Planfix came back from the portal as events and touched no task.
    assert effects(bridge) == {"planfix_sync_task": 1, "update_entity": 3, "bitrix24_timeline_comment": 2}
    assert bridge.planfix_writes() == {"POST /rest/task/": 1}
    with bridge.runtime.store.session() as s:
        deal_events = s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.entity_key == "bitrix24:deal:1"))
    assert deal_events >= 4  # the move, and the echo of each of the relay's three deal updates


def test_every_event_twice_and_replayed_changes_nothing(bridge: Bridge) -> None:
    bridge.portal_control("events/settings", {"duplicate_rate": 1.0, "seed": 3})
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    [task] = bridge.tasks()
    bridge.status(task["id"], 2)
    bridge.settle()
    for delivery in bridge.pf.deliveries():       # Planfix sends every scenario request again
        post_hook(delivery["url"], delivery["body"], delivery["headers"])
    bridge.settle()
    before = (effects(bridge), bridge.timeline(1), bridge.deal(1)["UF_CRM_PLANFIX_STATUS"], bridge.planfix_writes())
    with bridge.runtime.store.session() as s:
        every = list(s.scalars(select(InboxEvent.id)))
    assert bridge.runtime.inbox.replay(every) == len(every)   # `app.py replay` of everything
    bridge.settle()
    assert [t["id"] for t in bridge.tasks()] == [task["id"]]
    assert (effects(bridge), bridge.timeline(1), bridge.deal(1)["UF_CRM_PLANFIX_STATUS"], bridge.planfix_writes()) == before
    assert before[0] == {"planfix_sync_task": 1, "update_entity": 2, "bitrix24_timeline_comment": 1}
    assert len(before[1]) == 1 and bridge.events("dead") == 0


def test_a_task_made_by_hand_is_adopted_not_doubled(bridge: Bridge) -> None:
    made = bridge.pf.create_task(name="Брендинг Вектора (вручную)", assignees={"users": [{"id": "user:3"}]},
                                 customFieldData=[{"field": {"id": 103}, "value": "2"}])
    bridge.settle()
    bridge.move(2, STAGE_ID="EXECUTING")
    bridge.settle()
    assert [t["id"] for t in bridge.tasks()] == [made]
    assert bridge.deal(2)["UF_CRM_PLANFIX_TASK"] == str(made)
    bridge.status(made, 2)                       # the relay took it as known, so its first change is news
    bridge.settle()
    assert [c.split("\n")[0] for c in bridge.timeline(2)] == ["Задача в Planfix «Брендинг Вектора (вручную)»: статус «В работе» (был «Новая»)."]


def test_title_and_amount_follow_the_deal(bridge: Bridge) -> None:
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    bridge.move(1, TITLE="Сайт и лендинг для Ромашки", OPPORTUNITY=310000)
    bridge.settle()
    [task] = bridge.tasks()
    assert (task["name"], custom(task, 104)) == ("Сайт и лендинг для Ромашки", 310000)
    bridge.move(1, COMMENTS="только комментарий")   # nothing the task shows
    bridge.settle()
    assert bridge.planfix_writes() == {"POST /rest/task/": 1, "POST /rest/task/<raw_id>": 1}
    assert effects(bridge) == {"planfix_sync_task": 2, "update_entity": 1}


def test_a_user_without_a_planfix_person_is_named(bridge: Bridge) -> None:
    bridge.move(3, STAGE_ID="EXECUTING")            # assigned to Bitrix24 user 4, who is not in values.users
    bridge.settle()
    assert bridge.tasks() == []
    with bridge.runtime.store.session() as s:
        reasons = list(s.scalars(select(DeadLetter.reason)))
    assert len(reasons) == 1 and "user '4' has no Planfix person" in reasons[0] and "values.users" in reasons[0]
    assert "mappings/bridge/bridge.yaml" in reasons[0]

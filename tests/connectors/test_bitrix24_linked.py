"""Linked deals end to end: emulated portal ⇄ relay over HTTP, fast-bitrix24 on both sides (S1-S4, S8)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from sqlalchemy import select

from relay.effects import Effects
from relay.store.schema import Effect, InboxEvent
from tests.support.bitrix24 import LinkedDeals, start_linked_deals


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[LinkedDeals]:
    w = start_linked_deals(db_url, write_config, tmp_path)
    yield w
    w.stop()


def test_evaluate_creates_one_child_per_department_linked_both_ways(world: LinkedDeals) -> None:
    world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.settle()
    children = world.children(1)
    assert [(c["CATEGORY_ID"], c["STAGE_ID"], c["TITLE"]) for c in children] == [
        ("1", "C1:NEW", "Оценка логистики: Поставка оборудования"),
        ("2", "C2:NEW", "Расчёт: Поставка оборудования")]
    assert all(c["COMPANY_ID"] == "2" and float(c["OPPORTUNITY"]) == 250000 for c in children)
    assert sorted(str(v).rsplit("_", 1)[-1] for v in world.deal(1)["UF_CRM_CHILD_DEALS"]) == [c["ID"] for c in children]
    # The relay's own writes echoed back as events and changed nothing more.
    world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"COMMENTS": "touch"}})
    world.settle()
    assert len(world.children(1)) == 2


def test_event_delivered_three_times_still_one_child_each(world: LinkedDeals) -> None:
    world.control("events/settings", {"duplicate_rate": 1.0, "seed": 7})
    world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"TITLE": "Поставка оборудования"}})
    world.settle()
    assert [c["CATEGORY_ID"] for c in world.children(1)] == ["1", "2"]
    with world.runtime.store.session() as s:
        assert s.scalar(select(InboxEvent.id).where(InboxEvent.status == "dead")) is None


def test_dropped_event_is_found_by_the_sweep(world: LinkedDeals) -> None:
    connector = world.runtime.connector("bitrix24")
    assert connector.sweep() == 0  # the first sweep only sets the cursor, to the end of this second
    time.sleep(1.1)  # so the change below is after it (the portal's clock has one-second steps)
    world.control("events/settings", {"drop_rate": 1.0})
    world.bitrix().call("crm.deal.update", {"ID": 3, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.settle()
    assert world.children(3) == []
    assert connector.sweep() == 1
    world.settle()
    assert [c["CATEGORY_ID"] for c in world.children(3)] == ["1", "2"]
    # The relay's own writes were dropped as events too (two new children, the parent's links): later
    # sweeps read them, change nothing, and soon find nothing left. (An entity read in the same second
    # as its last change may be read once more: DATE_MODIFY has one-second steps.)
    found = []
    for _ in range(4):
        time.sleep(1.1)
        found.append(connector.sweep())
        world.settle()
    assert found[-1] == 0 and sum(found) <= 6, found
    assert [c["CATEGORY_ID"] for c in world.children(3)] == ["1", "2"]


def test_existing_child_is_found_not_duplicated(world: LinkedDeals) -> None:
    """Deal 2 already has Logistics child 5 (made by hand): only the Engineering child is created."""
    world.bitrix().call("crm.deal.update", {"ID": 2, "fields": {"COMMENTS": "any change"}})
    world.settle()
    children = world.children(2)
    assert [(c["ID"], c["CATEGORY_ID"]) for c in children][0] == ("5", "1")
    assert [c["CATEGORY_ID"] for c in children] == ["1", "2"]


def test_hand_off_gate_sends_deal_back_and_creates_nothing(world: LinkedDeals) -> None:
    world.bitrix().call("crm.deal.update", {"ID": 3, "fields": {"STAGE_ID": "EXECUTING"}})
    world.settle()
    deal = world.deal(3)
    assert deal["STAGE_ID"] == "PREPARATION"
    comments = world.bitrix().get_all("crm.timeline.comment.list", {"filter": {"ENTITY_ID": 3, "ENTITY_TYPE": "deal"}})
    assert any("Контакт" in c["COMMENT"] and "Коммерческое предложение" in c["COMMENT"] for c in comments), comments
    notes = requests.get(f"{world.portal.url}/_emulator/notifications", timeout=10).json()
    assert any("Контакт" in str(n) for n in notes)
    assert world.children(3) == []


def test_child_rolls_up_stage_values_dates_who_and_how_long(world: LinkedDeals) -> None:
    world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.settle()
    logistics, engineering = world.children(1)
    world.bitrix().call("crm.deal.update", {"ID": logistics["ID"], "fields": {
        "UF_CRM_COST_PRICE": "180000|RUB", "UF_CRM_PLANNED_DEADLINE": "2026-06-10", "UF_CRM_ACTUAL_DONE": "2026-06-12",
        "STAGE_ID": "C1:UC_APPROVAL"}})
    world.settle()
    parent = world.deal(1)
    assert parent["STAGE_ID"] == "UC_ESTIMATE_READY"
    assert parent["UF_CRM_CHILD_STAGE"] == "Логистика: На согласовании; Инжиниринг: Новая"
    assert parent["UF_CRM_COST_PRICE"] == "180000|RUB"
    assert parent["UF_CRM_PLANNED_DEADLINE"].startswith("2026-06-10")
    assert parent["UF_CRM_ACTUAL_DONE"].startswith("2026-06-12")
    assert parent["UF_CRM_DEADLINE_MISSED"] == "1"  # boolean user fields read back as 1/0
    assert str(parent["UF_CRM_ESTIMATED_BY"]) == "3"
    assert float(parent["UF_CRM_ESTIMATE_HOURS"]) >= 0
    # Settled: no write loop between the parent and its children.
    writes = requests.get(f"{world.portal.url}/_emulator/requests", timeout=10).json()
    world.settle()
    assert requests.get(f"{world.portal.url}/_emulator/requests", timeout=10).json() == writes


def test_killed_between_create_and_record_finds_the_child(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> None:
    world = start_linked_deals(db_url, write_config, tmp_path, start_worker=False)
    try:
        world.bitrix().call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
        world.control("events/flush")
        real_finish = Effects._finish
        Effects._finish = lambda self, key, written: (_ for _ in ()).throw(SystemExit("killed"))  # type: ignore[method-assign]
        try:
            with pytest.raises(SystemExit):
                world.worker.run_once()
        finally:
            Effects._finish = real_finish  # type: ignore[method-assign]
        assert len(world.children(1)) == 1, "the first child was created before the 'crash'"
        with world.runtime.store.session() as s:
            for event in s.scalars(select(InboxEvent).where(InboxEvent.status == "processing")):
                event.lease_until = event.received_at
        for _ in range(5):
            world.control("events/flush")
            world.worker.run_once()
        assert [c["CATEGORY_ID"] for c in world.children(1)] == ["1", "2"]
        with world.runtime.store.session() as s:
            assert {e.status for e in s.scalars(select(Effect))} == {"done"}
    finally:
        world.stop()


def test_proposal_stage_creates_one_contract_item(world: LinkedDeals) -> None:
    """S17: a smart-process item linked by parentId2, once, however often the deal comes back."""
    bx = world.bitrix()
    bx.call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "PREPARATION"}})
    world.settle()
    bx.call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "NEW"}})
    world.settle()
    bx.call("crm.deal.update", {"ID": 1, "fields": {"STAGE_ID": "PREPARATION"}})
    world.settle()
    items = requests.post(f"{world.webhook}crm.item.list.json", timeout=10,
                          json={"entityTypeId": 1036, "filter": {"parentId2": 1}}).json()["result"]["items"]
    assert [(i["title"], i["stageId"], int(i["companyId"])) for i in items] == [("Договор: Поставка оборудования", "DT1036_10:NEW", 2)]


PAIR = """\
rules:
  - id: title-to-comments
    when: {source: bitrix24, kind: deal.updated, if: "change.changed('TITLE')"}
    do:
      - update_entity: {fields: {COMMENTS: "{{ deal.TITLE }}"}}
  - id: comments-to-title
    when: {source: bitrix24, kind: deal.updated, if: "change.changed('COMMENTS')"}
    do:
      - update_entity: {fields: {TITLE: "{{ deal.COMMENTS }}"}}
"""


def test_rules_that_write_each_others_fields_settle(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "pair.yaml").write_text(PAIR, encoding="utf-8")
    world = start_linked_deals(db_url, write_config, tmp_path)
    try:
        world.bitrix().call("crm.deal.update", {"ID": 4, "fields": {"COMMENTS": "first look"}})
        world.settle()
        before = requests.get(f"{world.portal.url}/_emulator/requests", timeout=10).json()["batch_commands"].get("crm.deal.update", 0)
        world.bitrix().call("crm.deal.update", {"ID": 4, "fields": {"TITLE": "Новое имя"}})
        world.settle()
        deal = world.deal(4)
        assert (deal["TITLE"], deal["COMMENTS"]) == ("Новое имя", "Новое имя")
        after = requests.get(f"{world.portal.url}/_emulator/requests", timeout=10).json()["batch_commands"].get("crm.deal.update", 0)
        # The person's update arrives through fast-bitrix24's batch too; the relay adds exactly one write.
        assert after - before == 2, (before, after)
    finally:
        world.stop()

"""Contractor history (S5) end to end: estimates on department deals → the contractor company's
timeline and figures in the emulated portal; replays and re-reads never count a job twice."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select

from relay.store.schema import InboxEvent
from tests.connectors.portal_support import Portal, start_portal


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[Portal]:
    w = start_portal(db_url, write_config, tmp_path, rules=("linked_deals", "portal_contractors"))
    yield w
    w.stop()


def estimate(world: Portal, deal_id: str, contractor: str, price: str, score: float, stage: str) -> None:
    world.call("crm.deal.update", {"id": deal_id, "fields": {"UF_CRM_CONTRACTOR": contractor, "UF_CRM_CONTRACTOR_PRICE": price,
                                                             "UF_CRM_CONTRACTOR_SCORE": score, "STAGE_ID": stage}})
    world.settle()


def figures(world: Portal, company_id: int) -> tuple[float, float, float]:
    company = world.company(company_id)
    return (float(company["UF_CRM_CONTRACTOR_JOBS"] or 0), float(company["UF_CRM_CONTRACTOR_RATING"] or 0),
            float(company["UF_CRM_CONTRACTOR_LAST_PRICE"] or 0))


def test_estimates_append_to_the_contractor_and_replay_counts_nothing_twice(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.settle()
    logistics, engineering = (c["ID"] for c in world.children(1))
    estimate(world, logistics, "CO_3", "150000", 4, "C1:UC_APPROVAL")
    assert figures(world, 3) == (1, 4, 150000)
    estimate(world, engineering, "3", "90000", 5, "C2:UC_APPROVAL")
    assert figures(world, 3) == (2, 4.5, 90000)
    comments = world.comments("company", 3)
    assert len(comments) == 2
    assert "Поставка оборудования" in comments[0] and "цена 150000" in comments[0] and "оценка 4" in comments[0]
    assert "цена 90000" in comments[1] and "Всего работ: 2" in comments[1] and "средняя оценка: 4.5" in comments[1]

    with world.runtime.store.session() as s:
        every = list(s.scalars(select(InboxEvent.id)))
    assert world.runtime.inbox.replay(every) == len(every)
    world.settle()
    assert figures(world, 3) == (2, 4.5, 90000)
    assert len(world.comments("company", 3)) == 2
    # A deal that reaches approval again without a new estimate adds nothing either.
    world.call("crm.deal.update", {"id": logistics, "fields": {"STAGE_ID": "C1:UC_IN_WORK"}})
    world.settle()
    world.call("crm.deal.update", {"id": logistics, "fields": {"STAGE_ID": "C1:UC_APPROVAL"}})
    world.settle()
    assert figures(world, 3) == (2, 4.5, 90000)


def test_new_price_updates_the_job_and_a_new_contractor_takes_it_over(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})
    world.settle()
    logistics, engineering = (c["ID"] for c in world.children(1))
    estimate(world, logistics, "CO_3", "150000", 4, "C1:UC_APPROVAL")
    estimate(world, engineering, "CO_3", "90000", 5, "C2:UC_APPROVAL")
    estimate(world, logistics, "CO_3", "160000|RUB", 4, "C1:UC_APPROVAL")  # re-estimated: the same job, a new price
    assert figures(world, 3) == (2, 4.5, 160000)
    assert "цена 160000" in world.comments("company", 3)[-1]
    estimate(world, engineering, "CO_4", "95000", 3, "C2:UC_APPROVAL")
    assert figures(world, 3) == (1, 4, 160000)
    assert figures(world, 4) == (1, 3, 95000)
    assert len(world.comments("company", 4)) == 1


def test_deal_without_contractor_or_not_a_child_changes_nothing(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 6, "fields": {"UF_CRM_CONTRACTOR": "CO_4", "UF_CRM_CONTRACTOR_PRICE": "1000",
                                                       "STAGE_ID": "C2:UC_APPROVAL"}})  # deal 6 has no parent
    world.call("crm.deal.update", {"id": 5, "fields": {"UF_CRM_COST_PRICE": "170000|RUB"}})  # no contractor named
    world.settle()
    assert world.comments("company", 4) == [] and world.comments("company", 3) == []
    assert world.company(4)["UF_CRM_CONTRACTOR_JOBS"] in (None, "", "0")

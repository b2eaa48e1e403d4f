"""Holdings (S24) end to end: companies under a head company in the emulated portal; the relay keeps
the manager inherited and the holding's open deals summed on the top company."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select

from relay.store.schema import InboxEvent
from tests.connectors.portal_support import COMPANY_EVENTS, DEAL_EVENTS, Portal, start_portal

# The demo portal: company 1 is the top of holding «Альфа», company 2 its subsidiary. Open deals of
# the two: 1 (250 000), 2 (1 200 000), 3 (90 000), 5 and 6 (no amount); deal 4 is won (closed).
SEEDED_OPEN = 250_000 + 1_200_000 + 90_000


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[Portal]:
    w = start_portal(db_url, write_config, tmp_path, rules=("portal_holdings",), events=tuple(DEAL_EVENTS + COMPANY_EVENTS))
    yield w
    w.stop()


def open_sum(world: Portal, company_id: int) -> tuple[float, float]:
    company = world.company(company_id)
    return float(company["UF_CRM_HOLDING_OPEN_SUM"] or 0), float(company["UF_CRM_HOLDING_OPEN_DEALS"] or 0)


def test_open_deals_of_the_whole_holding_are_summed_on_the_top_company(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 1, "fields": {"OPPORTUNITY": 300000}})  # a subsidiary's deal
    world.settle()
    assert open_sum(world, 1) == (SEEDED_OPEN + 50_000, 5)
    world.call("crm.deal.update", {"id": 3, "fields": {"STAGE_ID": "WON"}})  # closed: out of the open sum
    world.settle()
    assert open_sum(world, 1) == (SEEDED_OPEN + 50_000 - 90_000, 4)
    world.call("crm.deal.update", {"id": 2, "fields": {"COMMENTS": "seen once"}})  # the relay knows its company now
    world.settle()
    world.call("crm.deal.update", {"id": 2, "fields": {"COMPANY_ID": 3}})  # moved to a company outside the holding
    world.settle()
    assert open_sum(world, 1) == (SEEDED_OPEN + 50_000 - 90_000 - 1_200_000, 3)
    assert world.company(3)["UF_CRM_HOLDING_OPEN_SUM"] in (None, "", "0")  # a lone company is no holding
    assert world.company(2)["UF_CRM_HOLDING_OPEN_SUM"] in (None, "", "0")  # only the top company shows it


def test_manager_reaches_every_subsidiary_and_a_new_member_joins_the_sums(world: Portal) -> None:
    world.call("crm.company.update", {"id": 1, "fields": {"ASSIGNED_BY_ID": 3}})
    world.settle()
    assert world.company(2)["ASSIGNED_BY_ID"] == "3"
    # A second level: a subsidiary of the subsidiary, made by a manager who set someone else.
    new = world.call("crm.company.add", {"fields": {"TITLE": "ООО «Альфа-Сервис»", "UF_CRM_HEAD_COMPANY": "CO_2", "ASSIGNED_BY_ID": 4}})
    world.settle()
    assert world.company(new)["ASSIGNED_BY_ID"] == "3"
    world.call("crm.deal.add", {"fields": {"TITLE": "Сервис", "COMPANY_ID": new, "OPPORTUNITY": 500000}})
    world.settle()
    assert open_sum(world, 1) == (SEEDED_OPEN + 500_000, 6)
    world.call("crm.company.update", {"id": 1, "fields": {"ASSIGNED_BY_ID": 2}})
    world.settle()
    assert [world.company(i)["ASSIGNED_BY_ID"] for i in (1, 2, new)] == ["2", "2", "2"]
    world.call("crm.company.update", {"id": new, "fields": {"UF_CRM_HEAD_COMPANY": ""}})  # leaves the holding
    world.settle()
    assert open_sum(world, 1) == (SEEDED_OPEN, 5)


def test_head_company_cycle_stops_instead_of_looping(world: Portal) -> None:
    world.call("crm.company.update", {"id": 1, "fields": {"UF_CRM_HEAD_COMPANY": "CO_2"}})  # 1 → 2 → 1
    world.settle()
    world.call("crm.deal.update", {"id": 1, "fields": {"OPPORTUNITY": 260000}})
    world.settle()
    with world.runtime.store.session() as s:
        statuses = set(s.scalars(select(InboxEvent.status)))
    assert statuses == {"done"}

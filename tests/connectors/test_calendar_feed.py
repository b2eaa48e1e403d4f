"""Calendar feeds (S21) end to end: portal events → snapshots → GET /calendar/<token>.ics over HTTP."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from icalendar import Calendar

from tests.connectors.ical_check import problems_of
from tests.connectors.portal_support import DEAL_EVENTS, ITEM_EVENTS, Portal, start_portal

SALES = "sales-feed-token-0123456789abcdefghijklmnopqrstuv"
LOGISTICS = "logistics-feed-token-0123456789abcdefghijklmnopq"
CONFIG = f"""\
  calendar:
    uid_domain: test.crm-relay
    stage_history_seconds: 0
    feeds:
      sales:
        token: {SALES}
        name: "CRM: продажи"
        pipelines: [0]
        events:
          - {{name: deal, start: BEGINDATE, end: CLOSEDATE, summary: "Сделка: {{{{ title }}}}"}}
          - {{name: stage, stages: true, summary: "{{{{ stage_name }}}}: {{{{ title }}}}"}}
          - {{name: payment, start: UF_CRM_PAYMENT_DATE, summary: "Оплата: {{{{ title }}}}",
              description: "Сумма {{{{ entity.OPPORTUNITY }}}}; с запятой, и точкой с запятой; и длинный текст, чтобы строка была сложена по 75 октетов"}}
          - {{name: contract, entity: item, entity_type_id: 1036, start: begindate, end: closedate, summary: "Договор: {{{{ title }}}}"}}
      logistics:
        token: {LOGISTICS}
        responsible: [3]
        events:
          - {{name: deadline, start: UF_CRM_PLANNED_DEADLINE, summary: "Срок: {{{{ title }}}}"}}
"""
WATCH_ITEMS = """\
rules:
  - id: watch-items
    when: {source: bitrix24, kind: "item.*"}
    do:
      - note: {text: "item {{ id }} read"}
"""


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[Portal]:
    w = start_portal(db_url, write_config, tmp_path, connectors=CONFIG, events=tuple(DEAL_EVENTS + ITEM_EVENTS),
                     extra_files={"rules/watch.yaml": WATCH_ITEMS})
    yield w
    w.stop()


def fetch(world: Portal, token: str, **headers: str) -> requests.Response:
    return requests.get(f"{world.relay.url}/calendar/{token}.ics", headers=headers, timeout=10)


def entries(body: bytes) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


def test_feed_shows_deal_dates_payments_contracts_and_stage_periods(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 1, "fields": {"BEGINDATE": "2026-06-01", "CLOSEDATE": "2026-06-30",
                                                       "UF_CRM_PAYMENT_DATE": "2026-06-15", "STAGE_ID": "UC_EVALUATE"}})
    world.call("crm.item.update", {"entityTypeId": 1036, "id": 1, "fields": {"begindate": "2026-07-01", "closedate": "2026-07-03"}})
    world.call("crm.deal.update", {"id": 3, "fields": {"UF_CRM_CONTRACT_DATE": "2026-07-01"}})  # the contract's deal
    world.settle()
    calendar = world.runtime.connector("calendar")
    calendar.history.catch_up()
    world.call("crm.deal.update", {"id": 1, "fields": {"STAGE_ID": "UC_ESTIMATE_READY"}})
    world.settle()
    assert calendar.history.catch_up() == 1  # the deal left "Оценить"
    assert calendar.history.catch_up() == 0  # and a second look records nothing twice

    response = fetch(world, SALES)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert problems_of(body) == []
    found = entries(body)
    deal = found["bitrix24-deal-1-deal@test.crm-relay"]
    assert (deal["dtstart"].dt, deal["dtend"].dt) == (date(2026, 6, 1), date(2026, 7, 1))  # all-day, DTEND exclusive
    assert str(deal["summary"]) == "Сделка: Поставка оборудования"
    payment = found["bitrix24-deal-1-payment@test.crm-relay"]
    assert (payment["dtstart"].dt, payment["dtend"].dt) == (date(2026, 6, 15), date(2026, 6, 16))
    assert "точкой с запятой" in str(payment["description"])
    contract = found["bitrix24-item-1036-1-contract@test.crm-relay"]
    assert (contract["dtstart"].dt, contract["dtend"].dt) == (date(2026, 7, 1), date(2026, 7, 4))
    stages = sorted((e for uid, e in found.items() if uid.startswith("bitrix24-deal-1-stage-")), key=lambda e: (e["dtstart"].dt, "dtend" not in e))
    assert [str(e["summary"]) for e in stages][-2:] == ["Оценить: Поставка оборудования", "Оценка готова: Поставка оборудования"]
    evaluate, ready = stages[-2:]
    assert isinstance(evaluate["dtstart"].dt, datetime) and str(evaluate["dtstart"].dt.tzinfo) == "Europe/Moscow"
    assert evaluate["dtend"].dt == ready["dtstart"].dt and "dtend" not in ready  # the current stage is still open
    assert b"BEGIN:VTIMEZONE\r\nTZID:Europe/Moscow" in body
    # Deals of other pipelines (the new Logistics child, deal 5) stay out of the sales feed.
    assert not any(uid.startswith(("bitrix24-deal-5-", "bitrix24-deal-6-")) for uid in found)


def test_same_state_same_uids_same_bytes_and_conditional_get(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 3, "fields": {"UF_CRM_PAYMENT_DATE": "2026-08-10"}})
    world.settle()
    first, second = fetch(world, SALES), fetch(world, SALES)
    assert first.content == second.content and "bitrix24-deal-3-payment@test.crm-relay" in entries(first.content)
    assert fetch(world, SALES, **{"If-None-Match": first.headers["ETag"]}).status_code == 304
    world.call("crm.deal.update", {"id": 3, "fields": {"UF_CRM_PAYMENT_DATE": "2026-08-12"}})
    world.settle()
    moved = fetch(world, SALES, **{"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200
    payment = entries(moved.content)["bitrix24-deal-3-payment@test.crm-relay"]  # same UID: the app moves the entry
    assert payment["dtstart"].dt == date(2026, 8, 12)


def test_feed_filtered_by_responsible(world: Portal) -> None:
    world.call("crm.deal.update", {"id": 5, "fields": {"UF_CRM_PLANNED_DEADLINE": "2026-09-01"}})  # Пётр's deal
    world.call("crm.deal.update", {"id": 6, "fields": {"ASSIGNED_BY_ID": 4, "COMMENTS": "x"}})
    world.settle()
    body = fetch(world, LOGISTICS).content
    assert problems_of(body) == []
    assert list(entries(body)) == ["bitrix24-deal-5-deadline@test.crm-relay"]


def test_wrong_token_is_an_unknown_address(world: Portal) -> None:
    unknown = requests.get(f"{world.relay.url}/no/such/page", timeout=10)
    for token in (SALES[:-1] + "x", SALES[:-1], "", "..", LOGISTICS.upper()):
        response = requests.get(f"{world.relay.url}/calendar/{token}.ics", timeout=10)
        assert response.status_code == 404
        assert response.content == unknown.content and "calendar" not in response.text.lower()


def test_checker_catches_what_calendar_apps_reject() -> None:
    good = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:a@b\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260102\r\nDTEND;VALUE=DATE:20260103\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert problems_of(good) == []
    assert problems_of(good.replace(b"\r\n", b"\n"))
    assert problems_of(good.replace(b"UID:a@b", b"UID:" + b"a" * 80))
    assert problems_of(good.replace(b"DTEND;VALUE=DATE:20260103", b"DTEND:20260103T100000"))
    assert problems_of(good.replace(b"DTSTART;VALUE=DATE", b"DTSTART;TZID=Europe/Moscow:20260102T100000\r\nX-A;VALUE=DATE"))
    assert problems_of(good.replace(b"UID:a@b\r\n", b""))
    folded_mid_char = "SUMMARY:" + "ж" * 33 + "\r\n"  # 8 + 66 octets, then the fold splits a character
    raw = folded_mid_char.encode()[:75] + b"\r\n " + folded_mid_char.encode()[75:]
    assert problems_of(good.replace(b"UID:a@b\r\n", b"UID:a@b\r\n" + raw))

"""Bank operations and CRM deals into the Fintablo emulator, processed by the real worker.

Payments are made in the Tochka and T-Bank emulators, read by the statement pollers, and turned
into Fintablo transactions by a rule. Whatever is replayed, retried or crashed half-way, Fintablo
ends up with exactly one transaction per operation (one per transfer), one partner per INN and
one deal per CRM deal.
"""
from __future__ import annotations

import textwrap
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import select

from connectors.banks.model import MSK
from connectors.fintablo.client import RateBudget
from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.fintablo import create_app as create_fintablo
from emulators.tbank import create_app as create_tbank
from emulators.tochka import create_app as create_tochka
from relay.effects import Effects
from relay.intake.base import IncomingEvent
from relay.runtime import Runtime
from relay.store.schema import InboxEvent
from relay.worker import Worker
from tests.support.relay import base_config, make_runtime

TOCHKA, TBANK = "40702810575689348581", "40702810437283605671"
FT_AUTH = {"Authorization": "Bearer ft-demo-7f3c9a1e5b"}
SEEDED = {8865, 8866, 8867}
ROMASHKA = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001", "account": "40702810759363303048", "bik": "044525225"}
LITERA = {"name": "ООО \"Литера\"", "inn": "7813794786", "kpp": "781301001", "account": "40702810744429481733", "bik": "044030653"}
IVANOV = {"name": "ИП Иванов Иван Иванович", "inn": "500359691585", "kpp": "", "account": "40802810152357924695", "bik": "044525593"}
US_AT_TOCHKA = {"name": "ООО \"Северный ветер\"", "inn": "7743729438", "kpp": "774301001", "account": TOCHKA, "bik": "044525104"}
US_AT_TBANK = {**US_AT_TOCHKA, "account": TBANK, "bik": "044525974"}

RULES = """\
rules:
  - id: bank-to-fintablo
    when: {source: bank, kind: "operation.*"}
    do:
      - fintablo_transaction: {}
  - id: deal-to-fintablo
    when: {source: shop, kind: "deal.*"}
    do:
      - fintablo_deal:
          key: "crm:deal:{{ payload.id }}"
          mapping: fintablo_deal
          stage: "{{ payload.stage }}"
          partner_inn: "{{ payload.inn }}"
          partner_name: "{{ payload.company }}"
"""
MAPPINGS = """\
mappings:
  fintablo_deal:
    fields:
      name: "{{ payload.title }}"
      amount: "{{ payload.amount }}"
      directionId: "23"
      startDate: "{{ payload.start }}"
    stages: {NEW: "12", WON: "15"}
"""


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, RunningServer]]:
    clock = ManualClock(start=1_741_000_000.0)
    with serve_in_thread(create_tochka(clock=clock)) as tochka, serve_in_thread(create_tbank(clock=clock)) as tbank, \
            serve_in_thread(create_fintablo(clock=clock)) as fintablo:
        yield {"tochka": tochka, "tbank": tbank, "fintablo": fintablo}


@pytest.fixture
def runtime(servers: dict[str, RunningServer], db_url: str, write_config: Callable[..., Path]) -> Iterator[Runtime]:
    for server in servers.values():
        requests.post(server.url + "/_emulator/reset", timeout=10).raise_for_status()
        requests.post(server.url + "/_emulator/faults", json={}, timeout=10).raise_for_status()
    RateBudget._shared.clear()  # each test starts with the whole per-minute budget
    extra = textwrap.dedent(f"""\
        connectors:
          bank:
            tochka: {{base_url: "{servers['tochka'].url}/uapi", token: tochka-demo-token, accounts: ["{TOCHKA}/044525104"],
                      start_date: "2025-03-03", statement_poll_seconds: 0}}
            tbank: {{base_url: "{servers['tbank'].url}/openapi", token: tbank-demo-token, accounts: ["{TBANK}"],
                     start_date: "2025-03-03", requests_per_second: 20}}
          fintablo:
            base_url: {servers['fintablo'].url}
            token: ft-demo-7f3c9a1e5b
            moneybags: {{"{TOCHKA}": 376, "{TBANK}": 377}}
            categories:
              - {{direction: outgoing, purpose: "аренд", category_id: 358}}
              - {{direction: incoming, purpose: "внедрени|поддержк", category_id: 356}}
            directions:
              - {{purpose: "поддержк", direction_id: 24}}
              - {{purpose: "внедрени", direction_id: 23}}
            partner_group_id: 143
            retry_wait_seconds: 0.001
            timeout_seconds: 5
        """)
    rt = make_runtime(write_config("mode: sandbox\n" + base_config(db_url, extra), **{"rules__main.yaml": RULES, "mappings__main.yaml": MAPPINGS}))
    yield rt
    rt.close()


def pay(server: RunningServer, direction: str, amount: str, counterparty: dict[str, str], purpose: str, number: str,
        at: str = "10:00:00", day: str = "2025-03-03") -> None:
    body = {"direction": direction, "amount": amount, "counterparty": counterparty, "purpose": purpose,
            "documentNumber": number, "date": day, "time": at}
    response = requests.post(server.url + "/_emulator/payments", json=body, timeout=10)
    assert response.status_code == 200, response.text


def poll(rt: Runtime) -> int:
    bank = rt.connector("bank")
    bank.tochka.today = lambda: date(2025, 3, 3)
    bank.tbank.now = lambda: datetime(2025, 3, 3, 18, 0, tzinfo=MSK)
    return int(bank.tochka.poll() + bank.tbank.poll())


def fintablo(servers: dict[str, RunningServer], path: str, **params: Any) -> list[dict[str, Any]]:
    response = requests.get(f"{servers['fintablo'].url}/v1/{path}", params=params, headers=FT_AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def new_transactions(servers: dict[str, RunningServer]) -> list[dict[str, Any]]:
    return [t for t in fintablo(servers, "transaction", pageSize=1000) if t["id"] not in SEEDED]


def process(rt: Runtime) -> dict[str, int]:
    Worker(rt).run_once()
    return rt.inbox.depth()


def replay_all(rt: Runtime) -> dict[str, int]:
    with rt.store.session() as s:
        ids = list(s.scalars(select(InboxEvent.id)))
    assert rt.inbox.replay(ids) == len(ids)
    return process(rt)


def test_one_transaction_per_operation_even_after_replaying_every_event_twice(
        servers: dict[str, RunningServer], runtime: Runtime) -> None:
    tochka, tbank = servers["tochka"], servers["tbank"]
    pay(tochka, "incoming", "48500.75", ROMASHKA, "Оплата по счету № 131 от 28.02.2025 за внедрение CRM. В т.ч. НДС 20% - 8083.46 руб.", "742")
    pay(tochka, "outgoing", "35000.00", LITERA, "Оплата аренды офиса за март 2025 г. по договору № 7-А от 01.12.2024. Без НДС", "1300", "11:00:00")
    pay(tochka, "outgoing", "1500.00", LITERA, "Оплата аренды парковки за март 2025 г. Без НДС", "1301", "11:05:00")
    pay(tbank, "incoming", "15000.00", IVANOV, "Оплата по счету № 124 от 03.02.2025 за техническую поддержку. Без НДС", "88")
    transfer = "Перевод собственных средств. НДС не облагается"
    pay(tochka, "outgoing", "100000.00", US_AT_TBANK, transfer, "1250", "15:00:00")
    pay(tbank, "incoming", "100000.00", US_AT_TOCHKA, transfer, "1250", "15:00:00")
    assert poll(runtime) == 6
    assert process(runtime) == {"done": 6}

    def snapshot() -> list[tuple[Any, ...]]:
        return sorted((t["group"], t["value"], t["moneybagId"], t.get("moneybag2Id"), t["categoryId"], t["partnerId"],
                       t["directionId"], t["nds"], t["date"]) for t in new_transactions(servers))

    litera = fintablo(servers, "partner", inn=LITERA["inn"])
    assert len(litera) == 1 and litera[0]["groupId"] == 143 and litera[0]["name"] == LITERA["name"]
    expected = sorted([
        ("income", 48500.75, 376, None, 356, 78, 23, 20, "03.03.2025"),
        ("outcome", 35000, 376, None, 358, litera[0]["id"], None, None, "03.03.2025"),
        ("outcome", 1500, 376, None, 358, litera[0]["id"], None, None, "03.03.2025"),
        ("income", 15000, 377, None, 356, 79, 24, None, "03.03.2025"),
        ("transfer", 100000, 376, 377, 347, None, None, None, "03.03.2025"),  # two legs, one transfer
    ])
    assert snapshot() == expected

    assert replay_all(runtime) == {"done": 6}
    assert replay_all(runtime) == {"done": 6}
    assert snapshot() == expected
    assert len(fintablo(servers, "partner", inn=LITERA["inn"])) == 1
    assert any("is up to date" in step.message for step in runtime.tracer.steps(1))

    # An accountant deletes one in Fintablo: a replay neither fails nor creates it again.
    victim = next(t for t in new_transactions(servers) if t["value"] == 1500)
    requests.delete(f"{servers['fintablo'].url}/v1/transaction/{victim['id']}", headers=FT_AUTH, timeout=10).raise_for_status()
    assert replay_all(runtime) == {"done": 6}
    assert len(new_transactions(servers)) == 4


def test_fintablo_429s_and_5xx_are_retried_inside_the_event(servers: dict[str, RunningServer], runtime: Runtime) -> None:
    pay(servers["tochka"], "incoming", "12000.00", ROMASHKA, "Оплата по счету № 200 за внедрение CRM. Без НДС", "900")
    assert poll(runtime) == 1
    before = requests.get(servers["fintablo"].url + "/_emulator/faults", timeout=10).json()["injected"]
    requests.post(servers["fintablo"].url + "/_emulator/faults", json={"script": ["500", "ok", "502"]}, timeout=10).raise_for_status()
    requests.post(servers["fintablo"].url + "/_emulator/knobs", json={"force_429": 2}, timeout=10).raise_for_status()
    assert process(runtime) == {"done": 1}
    with runtime.store.session() as s:
        assert s.scalars(select(InboxEvent)).one().attempts == 1
    (made,) = new_transactions(servers)
    assert (made["value"], made["partnerId"], made["categoryId"]) == (12000, 78, 356)
    injected = requests.get(servers["fintablo"].url + "/_emulator/faults", timeout=10).json()["injected"]
    # Four failures (two HTML 5xx pages, two 429s in between), then success on the fifth and last try.
    assert {k: injected.get(k, 0) - before.get(k, 0) for k in ("500", "502")} == {"500": 1, "502": 1}


def test_a_crash_after_the_write_finds_the_transaction_instead_of_writing_again(
        servers: dict[str, RunningServer], runtime: Runtime) -> None:
    pay(servers["tochka"], "incoming", "777.00", ROMASHKA, "Оплата по счету № 300. Без НДС", "901")
    assert poll(runtime) == 1
    real_finish = Effects._finish
    Effects._finish = lambda self, key, written: (_ for _ in ()).throw(SystemExit("killed"))  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            Worker(runtime).run_once()
    finally:
        Effects._finish = real_finish  # type: ignore[method-assign]
    assert len(new_transactions(servers)) == 1  # written, not recorded
    with runtime.store.session() as s:
        event = s.scalars(select(InboxEvent)).one()
        event.lease_until = event.received_at  # the dead worker's lease has run out
    assert process(runtime) == {"done": 1}
    (made,) = new_transactions(servers)
    assert runtime.links.get("fintablo.transaction", runtime.connector("bank").operations.all()[0]["key"]) == str(made["id"])
    assert "effect.found" in [step.step for step in runtime.tracer.steps(1)]


def deal_event(rt: Runtime, idem: str, **payload: Any) -> None:
    rt.inbox.add("shop", [IncomingEvent("deal.updated", f"crm:deal:{payload['id']}", payload, idem)])


def test_deals_are_created_once_and_then_updated(servers: dict[str, RunningServer], runtime: Runtime) -> None:
    common = {"id": "D-9", "title": "Внедрение CRM для ООО \"Вектор\"", "inn": "7728168971", "company": "ООО \"Вектор\"",
              "start": "2025-03-01"}
    deal_event(runtime, "d9-1", **common, stage="NEW", amount="50000.00")
    deal_event(runtime, "d9-2", **common, stage="WON", amount="60 000,00")
    assert process(runtime) == {"done": 2}
    assert replay_all(runtime) == {"done": 2}
    deals = fintablo(servers, "deal", name="Вектор")
    assert len(deals) == 1
    (deal,) = deals
    (partner,) = fintablo(servers, "partner", inn="7728168971")
    assert (deal["amount"], deal["statusId"], deal["partnerId"], deal["directionId"], deal["startDate"]) == (
        60000, 15, partner["id"], 23, "01.03.2025")  # replays run in order per deal: NEW, then WON again
    deal_event(runtime, "d9-3", **common, stage="WON", amount="65000")
    assert process(runtime) == {"done": 3}
    assert fintablo(servers, "deal", name="Вектор")[0]["amount"] == 65000
    assert len(fintablo(servers, "partner", inn="7728168971")) == 1
    assert runtime.links.get("fintablo.deal", "crm:deal:D-9") == str(deal["id"])

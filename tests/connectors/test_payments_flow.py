"""Bank payments reach their Bitrix24 deals end to end: signed Tochka webhooks and cp1251 1C files in,
the shipped rules/payments.yaml, the emulated portal's deals and invoices out — on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
import yaml

from emulators.common.server import RunningServer, serve_in_thread
from emulators.fintablo import create_app as create_fintablo
from relay.worker import Worker
from tests.connectors.payments_support import (CONTRACTOR, IVANOV, LUTIK, ROMASHKA, ROOT, STRANGER, World, onec_file,
                                               portal_app, start_world)

PURPOSE_131 = "Оплата по счету № 131 от 28.02.2025 за внедрение CRM. В т.ч. НДС 20% - 5000.00 руб."


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningServer]:
    with serve_in_thread(portal_app()) as server:
        yield server


@pytest.fixture
def world(portal: RunningServer, db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[World]:
    built = start_world(portal, db_url, write_config, tmp_path)
    yield built
    built.stop()


def test_a_payment_in_three_parts_marks_the_deal_paid_only_after_the_third_and_replays_change_nothing(world: World) -> None:
    world.pay_by_webhook("30000.00", PURPOSE_131, ROMASHKA, date(2025, 3, 3), number="301")
    world.work()
    deal, invoice = world.deal(1), world.invoice(7)
    assert (deal["UF_CRM_PAID_AMOUNT"], deal["UF_CRM_PAYMENT_STATUS"], deal["STAGE_ID"]) == ("30000.00|RUB", "Частично оплачена", "UC_PAID_PART")
    assert invoice["stageId"] == "DT31_5:UC_PART"

    # The statement file repeats the first part (known from the webhook) and brings the second.
    statement = onec_file(("30000.00", PURPOSE_131, ROMASHKA, "301", date(2025, 3, 3)),
                          ("30000.00", PURPOSE_131, ROMASHKA, "302", date(2025, 3, 10)))
    assert world.upload(statement) == {"accepted": 1, "duplicates": 1}
    world.work()
    deal = world.deal(1)
    assert (deal["UF_CRM_PAID_AMOUNT"], deal["UF_CRM_PAYMENT_STATUS"], deal["STAGE_ID"]) == ("60000.00|RUB", "Частично оплачена", "UC_PAID_PART")

    world.pay_by_webhook("30000.00", "Окончательный расчёт по сч. 131 за внедрение CRM", ROMASHKA, date(2025, 3, 17), number="303")
    world.work()
    deal, invoice = world.deal(1), world.invoice(7)
    assert (deal["UF_CRM_PAID_AMOUNT"], deal["UF_CRM_PAYMENT_STATUS"], deal["STAGE_ID"]) == ("90000.00|RUB", "Оплачена", "UC_PAID")
    assert invoice["stageId"] == "DT31_5:P"
    assert world.deal(6)["STAGE_ID"] == "C3:NEW" and world.deal(7)["STAGE_ID"] == "WON"  # the client's other deals: untouched

    before = (world.writes(), world.counts(), world.runtime.reviews.counts())
    assert before[1][0] == 3
    world.replay_everything()
    world.replay_everything()
    assert world.upload(statement) == {"accepted": 0, "duplicates": 2}
    world.pay_by_webhook("30000.00", "Окончательный расчёт по сч. 131 за внедрение CRM", ROMASHKA, date(2025, 3, 17), number="303")
    world.work()
    assert (world.writes(), world.counts(), world.runtime.reviews.counts()) == before
    assert world.deal(1)["UF_CRM_PAID_AMOUNT"] == "90000.00|RUB"


def test_ambiguous_and_unmatched_payments_wait_in_review_and_apply_once_resolved(world: World) -> None:
    world.pay_by_webhook("15000.00", "Оплата за техническую поддержку. Без НДС", LUTIK)      # two deals wait for 15 000
    world.pay_by_webhook("5000.00", "Оплата за консультацию. Без НДС", STRANGER)             # nobody knows this payer
    world.pay_by_webhook("10000.00", "Аванс по сч. № А-17 за доработку отчётов", LUTIK)       # the deal holding invoice А-17
    world.pay_by_webhook("8000.00", "Оплата обучения, без НДС", IVANOV)                      # ИП: a contact's requisites
    world.work()
    assert world.deal(4)["UF_CRM_PAID_AMOUNT"] == "10000.00|RUB"
    assert (world.deal(5)["UF_CRM_PAID_AMOUNT"], world.deal(5)["STAGE_ID"]) == ("8000.00|RUB", "UC_PAID_PART")

    items = {i.reason.split(";")[-1].strip(): i for i in world.runtime.reviews.list("payment")}
    assert len(items) == 2, [i.reason for i in items.values()]
    ambiguous = next(i for r, i in items.items() if "wait for exactly" in r)
    unmatched = next(i for r, i in items.items() if "no client" in r)
    assert sorted(c["id"] for c in ambiguous.candidates) == ["2", "3"]
    assert unmatched.candidates == [] and unmatched.payload["inn"] == STRANGER["inn"]

    code, listed, _ = world.cli("payments", "review")
    assert code == 0
    for text in ("15000.00 RUB", LUTIK["name"], "Оплата за техническую поддержку", "#2 «Поддержка, март»", "#3 «Поддержка, апрель»",
                 "5000.00 RUB", STRANGER["inn"], "2 payment item(s)"):
        assert text in listed, listed

    code, _, error = world.cli("payments", "review", "--resolve", str(unmatched.id), "--deal", "999")
    assert code == 1 and "deal 999 does not exist" in error
    assert world.runtime.reviews.get(unmatched.id).status == "open"  # type: ignore[union-attr]
    assert world.cli("payments", "review", "--resolve", str(ambiguous.id), "--deal", "3")[0] == 0
    assert world.cli("payments", "review", "--resolve", str(unmatched.id), "--deal", "4", "--comment", "консультация")[0] == 0
    world.work()
    assert world.deal(3)["UF_CRM_PAID_AMOUNT"] == "15000.00|RUB" and world.deal(3)["STAGE_ID"] == "UC_PAID"
    assert world.deal(2)["UF_CRM_PAID_AMOUNT"] in (None, "")
    assert world.deal(4)["UF_CRM_PAID_AMOUNT"] == "15000.00|RUB" and world.deal(4)["UF_CRM_PAYMENT_STATUS"] == "Частично оплачена"
    assert "no payment waits for review" in world.cli("payments", "review")[1]

    before = (world.writes(), world.counts())
    world.replay_everything()
    world.replay_everything()
    assert (world.writes(), world.counts()) == before
    assert world.runtime.reviews.list("payment") == []
    code, _, error = world.cli("payments", "review", "--resolve", str(unmatched.id), "--deal", "2")
    assert code == 1 and "already resolved" in error


def test_finance_report_per_project_with_upsell_and_an_expense(world: World, tmp_path: Path) -> None:
    world.pay_by_webhook("50000.00", PURPOSE_131, ROMASHKA, date(2025, 3, 3))
    world.pay_by_webhook("10000.00", "Оплата за аналитику по договору", ROMASHKA, date(2025, 3, 5))  # what the upsell awaits
    world.pay_by_webhook("12000.00", "Оплата по счету № 77 за печать буклетов. Без НДС", CONTRACTOR, date(2025, 3, 6),
                         incoming=False)
    world.work()
    assert world.runtime.reviews.list("payment") == []  # outgoing payments are never matched on their own
    assert world.deal(6)["STAGE_ID"] == "C3:WON"  # the upsell is paid in full: its own pipeline's stage
    with world.runtime.store.session() as s:
        from relay.store.schema import BankOperation
        expense = s.query(BankOperation).filter(BankOperation.direction == "D").one().id
    code, out, err = world.cli("payments", "assign", str(expense), "--deal", "1", "--article", "Подрядчики")
    assert code == 0, err
    world.work()
    assert world.deal(1)["UF_CRM_PAID_AMOUNT"] == "50000.00|RUB"  # an expense does not pay the deal

    code, out, _ = world.cli("payments", "report", "--format", "json")
    assert code == 0
    (project,) = json.loads(out)  # the upsell counts toward its sale
    assert project == {"deal": "1", "title": "Внедрение CRM", "price": "90000.00", "upsell": "10000.00", "upsell_deals": ["6"],
                       "income": "60000.00", "expenses": "12000.00", "profit": "48000.00", "balance": "40000.00"}
    code, out, _ = world.cli("payments", "report", "--deal", "1", "--to", "2025-03-05")
    assert code == 0
    assert "Внедрение CRM" in out and "+" in out and "Подрядчики" not in out  # the expense of 06.03 is after --to
    rows = out.splitlines()
    assert any("2025-03-03" in r and "50\u00a0000.00" in r and "Оплата от клиента" in r for r in rows), out
    code, out, _ = world.cli("payments", "report", "--deal", "1", "--format", "json")
    records = json.loads(out)[0]["records"]
    assert [(r["date"], r["kind"], r["amount"], r["article"]) for r in records] == [
        ("2025-03-03", "income", "50000.00", "Оплата от клиента"), ("2025-03-05", "income", "10000.00", "Оплата от клиента"),
        ("2025-03-06", "expense", "12000.00", "Подрядчики")]


def test_payments_of_one_deal_from_several_payers_processed_at_once_add_up(world: World) -> None:
    """Three payers are three entities, so the worker's threads take their payments at the same time;
    each sum is written under the deal's lock (test_payments_ledger.py), and the deal ends with all three."""
    for payer in (ROMASHKA, LUTIK, IVANOV):
        world.pay_by_webhook("30000.00", PURPOSE_131, payer)
    worker = Worker(world.runtime, worker_id="payments-threads")
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while sum(world.runtime.inbox.depth().get(s, 0) for s in ("pending", "processing")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert world.runtime.inbox.depth() == {"done": 3}, world.dead_reasons()
    deal = world.deal(1)
    assert (deal["UF_CRM_PAID_AMOUNT"], deal["STAGE_ID"], world.invoice(7)["stageId"]) == ("90000.00|RUB", "UC_PAID", "DT31_5:P")


@pytest.fixture
def sqlite_world(portal: RunningServer, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[World]:
    built = start_world(portal, f"sqlite:///{tmp_path / 'relay.db'}", write_config, tmp_path)
    yield built
    built.stop()


def test_the_payments_command_is_there_for_admins(sqlite_world: World) -> None:
    """Once, as a real process: the command is registered where `python app.py` finds it."""
    world = sqlite_world
    world.pay_by_webhook("5000.00", "Оплата за консультацию. Без НДС", STRANGER)
    world.work()
    shown = subprocess.run([sys.executable, "app.py", "--config", str(world.config), "payments", "review"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "5000.00 RUB" in shown.stdout and STRANGER["name"] in shown.stdout and "1 payment item(s)" in shown.stdout


FINTABLO_SEED, FINTABLO_TOKEN = ROOT / "emulators" / "fintablo" / "seeds" / "demo.yaml", "ft-payments-test-token"
S22_RULES = """\
rules:
  - id: payment-match
    when: {source: bank, kind: operation.incoming}
    do:
      - match_payment: {mapping: payments}
      - fintablo_transaction: {deal_id: "{{ payment.fintablo_deal_id if payment is defined else '' }}"}
"""


def test_a_matched_payment_reaches_fintablo_with_its_deal(portal: RunningServer, db_url: str, write_config: Callable[..., Path],
                                                         tmp_path: Path) -> None:
    """S22: the CRM deal's Fintablo deal (made by fintablo_deal under key bitrix24:deal:<id>) is the
    transaction's dealId; an unmatched payment still becomes a transaction, without a deal."""
    seed = yaml.safe_load(FINTABLO_SEED.read_text(encoding="utf-8"))
    seed["tokens"] = [FINTABLO_TOKEN]
    with serve_in_thread(create_fintablo(seed)) as fintablo:
        connectors = f"""\
  fintablo:
    token: {FINTABLO_TOKEN}
    base_url: {fintablo.url}
    moneybags: {{"40702810575689348581": 376}}
"""
        world = start_world(portal, db_url, write_config, tmp_path, connectors=connectors, rules=S22_RULES)
        try:
            world.runtime.links.set("fintablo.deal", "bitrix24:deal:1", "56")
            world.pay_by_webhook("30000.00", PURPOSE_131, ROMASHKA)
            world.pay_by_webhook("5000.00", "Оплата за консультацию. Без НДС", STRANGER)
            world.work()
            world.replay_everything()
            made = requests.get(f"{fintablo.url}/v1/transaction", params={"dateFrom": "03.03.2025", "dateTo": "03.03.2025"},
                                headers={"Authorization": f"Bearer {FINTABLO_TOKEN}"}, timeout=10).json()["items"]
            assert sorted((t["value"], t["dealId"]) for t in made) == [(5000, None), (30000, 56)]
            assert world.deal(1)["UF_CRM_PAID_AMOUNT"] == "30000.00|RUB"
        finally:
            world.stop()

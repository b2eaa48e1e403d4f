"""How `bank_operations` recognises one payment across routes, on SQLite and PostgreSQL.

The cross-route key, the per-route bank ids, the date tolerance (and where it must not apply),
the two legs of a transfer, and the inbox event: one per operation, repaired by a later route.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select

from connectors.banks.model import Operation, entity_key, kopecks, msk_date, rubles
from connectors.banks.operations import Operations
from connectors.banks.tbank import from_operation
from connectors.banks.tochka import from_statement, from_webhook
from relay.runtime import Runtime
from relay.store.schema import InboxEvent
from tests.support.relay import base_config, make_runtime

OURS, THEIRS, OTHER_OURS = "40702810575689348581", "40702810759363303048", "40702810437283605671"


@pytest.fixture
def runtime(db_url: str, write_config: Callable[..., Path]) -> Iterator[Runtime]:
    rt = make_runtime(write_config(base_config(db_url)))
    yield rt
    rt.close()


def op(route: str = "tochka-webhook", **changes: object) -> Operation:
    base = Operation(route=route, account=OURS, direction="C", amount_kopecks=1_200_000, posted_on=date(2025, 3, 3),
                     document_number="315", purpose="Оплата по счету № 123 от 01.03.2025. Без НДС",
                     counterparty_name="ООО \"Ромашка\"", counterparty_inn="7701256557", counterparty_account=THEIRS)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def inbox(runtime: Runtime) -> list[InboxEvent]:
    with runtime.store.session() as s:
        return list(s.scalars(select(InboxEvent)))


@pytest.mark.parametrize("value,expected", [
    ("12000.5", 1_200_050), (12000.5, 1_200_050), ("12000.50", 1_200_050), ("12 000,50", 1_200_050),
    ("15000-00", 1_500_000), (0.1 + 0.2, 30), ("1\u00a0000", 100_000), (40, 4000)])
def test_amounts_become_exact_kopecks(value: object, expected: int) -> None:
    assert kopecks(value) == expected
    assert rubles(expected) == f"{expected // 100}.{expected % 100:02d}"


@pytest.mark.parametrize("bad", ["", "abc", None, True, "NaN", "1e999999"])
def test_non_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        kopecks(bad)


def test_key_strips_leading_zeros_and_tbank_dates_are_moscow() -> None:
    assert op(document_number="00315").key == op().key == f"{OURS}|C|{THEIRS}|315|1200000|2025-03-03"
    assert op(document_number="", route_id="abc").key.endswith("|#abc|1200000|2025-03-03")
    assert msk_date("2025-03-02T21:30:00Z") == date(2025, 3, 3)
    assert entity_key("7701256557", "k") == "bank:inn:7701256557" and entity_key("0000000000", "k") == "bank:op:k"


def test_one_row_one_event_whatever_the_order_of_routes(runtime: Runtime) -> None:
    ops = Operations(runtime.store)
    first = ops.ingest([op("1c-file")])
    again = ops.ingest([op("tochka-statement", route_id="p1"), op("tochka-webhook", route_id="p1"), op("1c-file")])
    assert first[0].new and not any(r.new for r in again)
    (row,) = ops.all()
    assert row["routes"] == ["1c-file", "tochka-statement", "tochka-webhook"] and row["tochka_payment_id"] == "p1"
    assert len(inbox(runtime)) == 1


def test_bank_id_matches_a_webhook_dated_differently_from_its_statement(runtime: Runtime) -> None:
    ops = Operations(runtime.store, tolerance_days=0)
    ops.ingest([op("tochka-webhook", route_id="p7", posted_on=date(2025, 3, 2))])
    assert not ops.ingest([op("tochka-statement", route_id="p7")])[0].new
    # The file has no bank id, only the statement's facts: the statement's key was remembered on the row.
    assert not ops.ingest([op("1c-file")])[0].new
    (row,) = ops.all()
    assert row["routes"] == ["tochka-webhook", "tochka-statement", "1c-file"] and row["posted_on"] == "2025-03-02"


def test_tolerance_joins_routes_but_never_two_reports_of_one_route(runtime: Runtime) -> None:
    ops = Operations(runtime.store, tolerance_days=3)
    ops.ingest([op("tochka-statement", route_id="p1")])
    late = ops.ingest([op("1c-file", posted_on=date(2025, 3, 4))])[0]
    assert not late.new
    # The same file line again (its own key is remembered on the row), and again after a restart.
    assert not ops.ingest([op("1c-file", posted_on=date(2025, 3, 4))])[0].new
    # A second statement entry with its own bank id, two days later: a different payment.
    assert ops.ingest([op("tochka-statement", route_id="p2", posted_on=date(2025, 3, 5))])[0].new
    # Same route, other date, beyond the tolerance window: different too.
    assert ops.ingest([op("1c-file", posted_on=date(2025, 3, 20))])[0].new
    assert len(ops.all()) == 3 and len(inbox(runtime)) == 3


def test_transfer_legs_stay_two_operations(runtime: Runtime) -> None:
    ops = Operations(runtime.store)
    out_leg = op("tochka-statement", direction="D", counterparty_account=OTHER_OURS, counterparty_inn="7743729438")
    in_leg = op("tbank-statement", account=OTHER_OURS, counterparty_account=OURS, counterparty_inn="7743729438")
    assert [r.new for r in ops.ingest([out_leg, in_leg])] == [True, True]
    assert {e.kind for e in inbox(runtime)} == {"operation.incoming", "operation.outgoing"}


def test_a_later_route_repairs_a_row_whose_event_was_lost(runtime: Runtime) -> None:
    ops = Operations(runtime.store)
    ops.ingest([op("tochka-webhook", route_id="p1")], queue=False)  # e.g. the intake failed with 503 after this
    assert inbox(runtime) == []
    assert not ops.ingest([op("tochka-statement", route_id="p1")])[0].new
    (event,) = inbox(runtime)
    assert event.idem_key == f"op:{op().key}" and event.payload["purpose_fields"]["vat"] == "exempt"


def test_route_parsers_read_every_shape() -> None:
    side = {"account": THEIRS, "name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001", "bankCode": "044525225",
            "bankName": "ПАО Сбербанк", "amount": "12000.0", "currency": "RUB"}
    us = {**side, "account": OURS, "inn": "7743729438"}
    claims = {"SidePayer": side, "SideRecipient": us, "purpose": "x", "documentNumber": "315", "paymentId": "p1",
              "date": "2025-03-03", "webhookType": "incomingPayment", "customerCode": "300123123"}
    hook = from_webhook(claims)
    assert hook is not None and hook.key == op().key and hook.route_id == "p1"
    assert from_webhook({**claims, "webhookType": "incomingSbpPayment"}) is None
    with pytest.raises(ValueError):
        from_webhook({**claims, "SidePayer": "?"})
    tx = {"paymentId": "p1", "creditDebitIndicator": "Credit", "status": "Booked", "documentNumber": "315",
          "documentProcessDate": "2025-03-03", "description": "x", "Amount": {"amount": 12000.0, "currency": "RUB"},
          "DebtorParty": {"inn": "7701256557", "name": "ООО \"Ромашка\""}, "DebtorAccount": {"identification": THEIRS}}
    statement = from_statement(f"{OURS}/044525104", tx)
    assert statement is not None and statement.key == op().key
    assert from_statement(f"{OURS}/044525104", {**tx, "status": "Pending"}) is None
    operation = {"operationId": "u1", "operationDate": "2025-03-03T07:15:00Z", "typeOfOperation": "Credit",
                 "operationStatus": "Transaction", "accountNumber": OURS, "documentNumber": "315", "accountAmount": "12000.0",
                 "payPurpose": "x", "payer": {"acct": THEIRS, "inn": "7701256557", "name": "ООО \"Ромашка\"", "bicRu": "044525225"}}
    tbank = from_operation(operation)
    assert tbank is not None and tbank.key == op().key and tbank.counterparty_bik == "044525225"
    assert from_operation({**operation, "operationStatus": "Authorization"}) is None

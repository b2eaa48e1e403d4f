"""The ledger of operation↔deal links on a real store: sums derived from links (a second link of the
same operation counts once), a moved payment, records in date order, one writer per deal."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import pytest

from connectors.banks.model import Operation
from connectors.banks.operations import Operations
from relay.errors import TransientError
from relay.payments.ledger import Ledger
from relay.runtime import Runtime
from tests.support.relay import base_config, make_runtime

OURS = "40702810575689348581"


@pytest.fixture
def runtime(db_url: str, write_config: Callable[..., Path]) -> Iterator[Runtime]:
    built = make_runtime(write_config(base_config(db_url)))
    yield built
    built.close()


def stored(runtime: Runtime, number: str, kopecks: int, day: date, direction: str = "C") -> str:
    op = Operation(route="1c-file", account=OURS, direction=direction, amount_kopecks=kopecks, posted_on=day,
                   document_number=number, purpose=f"Оплата по счету № 131, п/п {number}", counterparty_name="ООО «Ромашка»",
                   counterparty_inn="7701256557", counterparty_account="40702810759363303048")
    (ingested,) = Operations(runtime.store).ingest([op], queue=False)
    return ingested.key


def test_sums_come_from_links_and_count_each_operation_once(runtime: Runtime) -> None:
    ledger = Ledger(runtime.store)
    first, second = stored(runtime, "1", 3_000_000, date(2025, 3, 10)), stored(runtime, "2", 1_000_000, date(2025, 3, 3))
    expense = stored(runtime, "3", 500_000, date(2025, 3, 5), direction="D")
    for _ in range(3):  # a replayed event links the same operation again
        assert ledger.link(first, "42", {"how": "invoice"}) is None
    ledger.link(second, "42", {"how": "inn+amount", "invoice_id": "7"})
    ledger.link(expense, "42", {"how": "chosen", "article": "Подрядчики"})
    assert ledger.paid("42") == (4_000_000, 2) and ledger.paid("42", invoice_id="7") == (1_000_000, 1)
    assert [(b.posted_on.day, b.direction, b.article) for b in ledger.booked(["42"])] == [(3, "C", ""), (5, "D", "Подрядчики"), (10, "C", "")]
    assert ledger.deal_ids() == ["42"] and ledger.deal_of(first) == "42"
    by_id = ledger.operation(ledger.booked(["42"])[0].operation_id)
    assert by_id is not None and by_id["key"] == second and by_id["amount"] == "10000.00"

    assert ledger.link(first, "43", {"how": "chosen"}) == "42"  # an admin moved it
    assert ledger.paid("42") == (1_000_000, 1) and ledger.paid("43") == (3_000_000, 1)
    assert ledger.deal_ids() == ["42", "43"]


def test_one_writer_per_deal(runtime: Runtime) -> None:
    ledger, other = Ledger(runtime.store), Ledger(runtime.store)
    with ledger.deal_lock("42"):
        with pytest.raises(TransientError, match="deal 42 is being updated by another payment"):
            with other.deal_lock("42", wait_seconds=0.2):
                pass
        with other.deal_lock("43", wait_seconds=0):  # another deal is not held
            pass
    with other.deal_lock("42", wait_seconds=0):  # released
        pass

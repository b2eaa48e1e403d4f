"""The matching decision on its own (no store, no CRM): the order of keys, narrowing, review reasons,
payment statuses, exact money, and how the Bitrix24 side compares numbers and values."""
from __future__ import annotations

import pytest

from connectors.bitrix24.payments import fields_of, same_number
from connectors.bitrix24.payments_write import pipeline_of, same_value
from relay.engine.model import Mapping
from relay.errors import PermanentError
from relay.payments.matching import Candidate, Payment, decide, payment_status
from relay.payments.money import pretty, rub, to_kopecks

INN = "7701256557"


def deal(deal_id: str, amount: int, paid: int = 0, via: str = "", **more: object) -> Candidate:
    return Candidate(deal_id, f"Deal {deal_id}", amount * 100, paid * 100, via, **more)  # type: ignore[arg-type]


def pay(amount: int, invoices: tuple[str, ...] = (), inn: str = INN, currency: str = "RUB") -> Payment:
    return Payment(amount * 100, inn, "ООО «Ромашка»", invoices, currency)


def test_an_invoice_number_wins_over_everything_else() -> None:
    d = decide(pay(30000, ("131",)), [deal("1", 90000, via="invoice 131", invoice_id="7")], [deal("2", 30000)])
    assert (d.outcome, d.candidate.id if d.candidate else None, d.how) == ("match", "1", "invoice")
    assert d.candidate is not None and d.candidate.invoice_id == "7"


@pytest.mark.parametrize("found, expected", [
    ([deal("1", 900, closed=True), deal("2", 900)], "2"),                                          # the open one
    ([deal("1", 900, client_matches=False), deal("2", 900, client_matches=True)], "2"),           # the payer's own
    ([deal("1", 900, paid=900, client_matches=True), deal("2", 900, client_matches=True)], "2"),  # the one still due
    ([deal("1", 900, closed=True), deal("2", 900, closed=True, client_matches=True)], "2"),       # narrowing goes on
])
def test_an_invoice_held_by_several_deals_is_narrowed(found: list[Candidate], expected: str) -> None:
    d = decide(pay(900, ("1",)), found, None)
    assert d.outcome == "match" and d.candidate is not None and d.candidate.id == expected


def test_an_invoice_held_by_two_equally_good_deals_waits_for_review() -> None:
    d = decide(pay(900, ("1",)), [deal("1", 900), deal("2", 900), deal("1", 900)], None)
    assert d.outcome == "review" and [c.id for c in d.candidates] == ["1", "2"] and "belongs to 2 deals" in d.reason


def test_by_inn_the_deal_waiting_for_exactly_this_amount() -> None:
    d = decide(pay(15000), [], [deal("2", 40000), deal("3", 20000, paid=5000), deal("4", 15000, paid=15000)])
    assert d.outcome == "match" and d.candidate is not None and d.candidate.id == "3" and d.how == "inn+amount"


def test_by_inn_within_the_tolerance() -> None:
    d = decide(Payment(1499950, INN), [], [deal("2", 40000), deal("3", 15000)], tolerance_kopecks=100)
    assert d.candidate is not None and d.candidate.id == "3"
    assert decide(Payment(1499950, INN), [], [deal("2", 40000), deal("3", 15000)]).outcome == "review"


def test_by_inn_the_only_deal_still_waiting_takes_a_partial_payment() -> None:
    d = decide(pay(5000, ("999",)), [], [deal("2", 40000), deal("3", 15000, paid=15000)])
    assert d.outcome == "match" and d.candidate is not None and d.candidate.id == "2"
    assert d.how == "inn: the only open deal" and "invoice 999" in d.reason


@pytest.mark.parametrize("by_inn, reason, candidates", [
    (None, "no client with the payer's ИНН 7701256557", []),
    ([], "has no open deal", []),
    ([deal("2", 15000), deal("3", 15000)], "2 open deals of ИНН 7701256557 wait for exactly", ["2", "3"]),
    ([deal("2", 40000), deal("3", 20000)], "none waiting for exactly", ["2", "3"]),
    ([deal("2", 100, paid=100)], "every open deal of ИНН 7701256557 is paid already", ["2"]),
])
def test_what_cannot_be_decided_says_why(by_inn: list[Candidate] | None, reason: str, candidates: list[str]) -> None:
    d = decide(pay(15000), [], by_inn)
    assert d.outcome == "review" and reason in d.reason and [c.id for c in d.candidates] == candidates
    assert d.reason.startswith("no invoice number in the purpose")


def test_foreign_currency_is_never_matched_automatically() -> None:
    d = decide(pay(100, ("1",), currency="USD"), [deal("1", 100)], None)
    assert d.outcome == "review" and "USD" in d.reason and [c.id for c in d.candidates] == ["1"]


def test_candidates_read_well_in_the_review_list() -> None:
    shown = deal("3", 15000, paid=5000, via="ИНН 7701256557").as_dict()
    assert shown["id"] == "3" and shown["remaining"] == "10000.00"
    assert shown["label"] == "#3 «Deal 3»: 15\u00a0000.00, paid 5\u00a0000.00 (ИНН 7701256557)"


@pytest.mark.parametrize("amount, paid, tolerance, status", [
    (9000000, 0, 0, "unpaid"), (9000000, 3000000, 0, "partial"), (9000000, 9000000, 0, "paid"),
    (9000000, 8999950, 100, "paid"), (9000000, 8999950, 0, "partial"), (9000000, 9000100, 100, "paid"),
    (9000000, 9000101, 100, "overpaid"), (0, 500, 0, "paid"),
])
def test_payment_status(amount: int, paid: int, tolerance: int, status: str) -> None:
    assert payment_status(amount, paid, tolerance) == status


@pytest.mark.parametrize("value, kopecks", [
    (90000, 9000000), ("90000.00", 9000000), (1000.5, 100050), ("1 000,50", 100050), ("48500.75|RUB", 4850075),
    (None, 0), ("", 0), ("n/a", 0), ("NaN", 0), (True, 0),
])
def test_crm_amounts_become_kopecks(value: object, kopecks: int) -> None:
    assert to_kopecks(value) == kopecks


def test_money_is_printed_exactly() -> None:
    assert (rub(4850075), rub(-5), rub(0), pretty(123456789)) == ("48500.75", "-0.05", "0.00", "1\u00a0234\u00a0567.89")


def test_bitrix24_side_comparisons() -> None:
    assert same_number("№ А-17", "а-17") and same_number("131", " 131 ") and not same_number("131", "1310")
    assert not same_number("", "")
    assert same_value("500|RUB", "500.00|RUB") and not same_value("500|RUB", "500|USD") and same_value("1000.00", 1000)
    assert (pipeline_of("WON"), pipeline_of("C3:WON"), pipeline_of("DT31_5:P")) == ("0", "3", "DT31_5")


def test_a_wrong_mapping_value_names_file_and_key() -> None:
    mapping = Mapping(values={"invoice_entity_type_id": "smart", "tolerance": "1.00"}, file="mappings/payments.yaml")
    with pytest.raises(PermanentError, match=r"mappings/payments.yaml: mappings.payments.values.invoice_entity_type_id: "):
        fields_of("payments", mapping)
    with pytest.raises(PermanentError, match=r"values.invoice_numbr_field: Extra inputs are not permitted"):
        fields_of("payments", Mapping(values={"invoice_numbr_field": "x"}, file="mappings/payments.yaml"))
    assert fields_of("payments", Mapping(values={"tolerance": "1.00"})).tolerance_kopecks == 100

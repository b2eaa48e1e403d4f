"""Payment purposes as accountants type them: invoice, contract and VAT, and never a crash."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.banks.purpose import money, parse_purpose

# (purpose, invoice, invoice date, contract, contract date, vat, vat rate, vat amount)
CASES = [
    ("Оплата по счету № 123 от 01.02.2026. В т.ч. НДС 20% - 2000.00 руб.", "123", "2026-02-01", None, None, "included", "20", "2000.00"),
    ("Оплата по сч. 45 от 3.2.24 за услуги, НДС не облагается", "45", "2024-02-03", None, None, "exempt", None, None),
    ("Опл. по сч.№ А-17/2024 по дог. № 12/3 от 10.01.2024 за работы. В том числе НДС (20%) 2500-00",
     "А-17/2024", None, "12/3", "2024-01-10", "included", "20", "2500.00"),
    ("Оплата по счету на оплату № 981 от 05.03.2025 Без НДС", "981", "2025-03-05", None, None, "exempt", None, None),
    ("Предоплата по договору 77-К за товар, в т.ч. НДС 5% 476,19 руб.", None, None, "77-К", None, "included", "5", "476.19"),
    ("счёт на оплату №А-17", "А-17", None, None, None, None, None, None),
    ("Оплата по договору № 15/24 от 1 февраля 2025 г. НДС 20 % - 1 000,00 руб.", None, None, "15/24", "2025-02-01", "included", "20", "1000.00"),
    ("Оплата по счету №123от 01.02.2026", "123", "2026-02-01", None, None, None, None, None),
    ("Оплата аренды офиса за февраль 2025 г. по договору № 7-А от 01.12.2024. Без НДС", None, None, "7-А", "2024-12-01", "exempt", None, None),
    ("Оплата по счету № 131 от 28.02.2025 за внедрение CRM. В т.ч. НДС 20% - 8083.46 руб.", "131", "2025-02-28", None, None, "included", "20", "8083.46"),
    ("Оплата по счету № 1 от 01.01.2021. Без НДС", "1", "2021-01-01", None, None, "exempt", None, None),
    ("ОПЛАТА ПО СЧЕТУ N 77 ОТ 15.01.2026 ЗА КОНСУЛЬТАЦИЮ НДС НЕ ОБЛАГАЕТСЯ", "77", "2026-01-15", None, None, "exempt", None, None),
    ("Оплата по сч-ту 2025-118 согл. договора поставки № П-44/25 от 12.01.2025, в т.ч. НДС (22%) 11 000-00",
     "2025-118", None, "П-44/25", "2025-01-12", "included", "22", "11000.00"),
    ("Оплата по счету-оферте № 5512 Сумма 15000-00 Без налога (НДС)", "5512", None, None, None, "exempt", None, None),
    ("Оплата по инвойсу INV-2025/7", "INV-2025/7", None, None, None, None, None, None),
    ("Оплата по контракту № 0373100000125000012 от 20.01.2025 НДС 10% 909.09", None, None, "0373100000125000012", "2025-01-20", "included", "10", "909.09"),
    ("Оплата по сч 9 от 09.09.25 Сумма 3600-00 в т.ч. НДС 600-00", "9", "2025-09-09", None, None, "included", None, "600.00"),
    ("Возврат аванса по д-ру № 3 от 01.10.2025. Без НДС", None, None, "3", "2025-10-01", "exempt", None, None),
    ("Оплата по счету ЦБ-9437 от 14.03.2025 за товар в т.ч. НДС 20/120 1666.67", "ЦБ-9437", "2025-03-14", None, None, "included", "20", "1666.67"),
]

NOT_INVOICES = [
    "Оплата по счет-фактуре № 55 от 01.02.2025",
    "Оплата по сч-ф 12 от 01.02.2025",
    "Оплата по счёт фактуре 88",
    "Перевод на расчетный счет 40702810900000000002",
    "Перевод собственных средств на р/с 40702810437283605671. НДС не облагается",
    "Зачисление на лицевой счет 123",
    "Оплата по договору аренды за февраль 2025",
    "Заработная плата за январь 2026 г. НДС не облагается",
]


@pytest.mark.parametrize("text,invoice,invoice_date,contract,contract_date,vat,rate,amount", CASES)
def test_real_looking_purposes(text: str, invoice: str | None, invoice_date: str | None, contract: str | None,
                               contract_date: str | None, vat: str | None, rate: str | None, amount: str | None) -> None:
    got = parse_purpose(text)
    assert (got.invoice, got.invoice_date, got.contract, got.contract_date) == (invoice, invoice_date, contract, contract_date)
    assert (got.vat, got.vat_rate, got.vat_amount) == (vat, rate, amount)


@pytest.mark.parametrize("text", NOT_INVOICES)
def test_tax_documents_and_accounts_are_not_invoices(text: str) -> None:
    assert parse_purpose(text).invoice is None


def test_several_invoices_in_one_payment() -> None:
    got = parse_purpose("Оплата по счетам 101, 102 и № 103 от 01.02.2025")
    assert got.invoices == ["101", "102", "103"] and got.invoice == "101" and got.invoice_date == "2025-02-01"


def test_impossible_dates_are_dropped_not_raised() -> None:
    got = parse_purpose("Оплата по счету № 5 от 31.02.2025")
    assert got.invoice == "5" and got.invoice_date is None


def test_nothing_to_find() -> None:
    empty = parse_purpose("")
    assert empty == parse_purpose(None) == parse_purpose("Перевод средств") and empty.invoices == []
    assert empty.as_dict()["vat"] is None


@pytest.mark.parametrize("text,expected", [("1 000,00", "1000.00"), ("2500-00", "2500.00"), ("476.19", "476.19"),
                                           ("12", "12.00"), ("", None), ("abc", None)])
def test_money(text: str, expected: str | None) -> None:
    assert money(text) == expected


PURPOSE_ALPHABET = st.sampled_from(list("0123456789№N.,-/()%: сСчЧёЁтуаеДдоговрНДСбзлфкиИпмЩ\u00a0\t\n")) | st.characters()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=PURPOSE_ALPHABET, max_size=300))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    got = parse_purpose(text)
    assert got.invoice is None or got.invoice in got.invoices
    if got.vat_amount is not None:
        assert Decimal(got.vat_amount) >= 0
    for day in (got.invoice_date, got.contract_date):
        assert day is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)


@settings(max_examples=200, deadline=None)
@given(number=st.from_regex(r"[А-Я]{0,2}-?[1-9][0-9]{0,5}(/[0-9]{2,4})?", fullmatch=True),
       prefix=st.sampled_from(["Оплата по счету № ", "Оплата по сч. ", "Опл. по счету N", "Оплата по счёту №"]),
       tail=st.sampled_from(["", " от 01.02.2026", ". Без НДС", " за услуги, в т.ч. НДС 20% 100.00"]))
def test_an_invoice_number_is_found_wherever_it_sits(number: str, prefix: str, tail: str) -> None:
    assert parse_purpose(prefix + number + tail).invoice == number.rstrip("-/")

"""Check digits of INN/KPP/BIK/accounts/OGRN, and proof that every seeded requisite passes them."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from emulators.common.ru_bank import (BANKS, account_is_valid, bik_is_valid, inn_is_valid, kpp_is_valid,
                                      make_account, make_corr_account, make_inn, make_kpp, ogrn_is_valid,
                                      with_check_digit)

ROOT = Path(__file__).resolve().parents[2] / "emulators"


@pytest.mark.parametrize("inn", ["7707083893", "7710140679", "9721194461", "500100732259"])
def test_real_inns_pass(inn: str) -> None:
    assert inn_is_valid(inn)


@pytest.mark.parametrize("inn", ["7707083894", "770708389", "50010073225", "500100732258", "77O7083893", ""])
def test_broken_inns_fail(inn: str) -> None:
    assert not inn_is_valid(inn)


def test_bank_directory_correspondent_accounts_are_valid() -> None:
    for bank in BANKS.values():
        assert bik_is_valid(bank.bik)
        assert account_is_valid(bank.corr_account, bank.bik, correspondent=True), bank
        assert not account_is_valid(bank.corr_account, bank.bik), "a corr account keys on BIK digits 5-6, not 7-9"


def test_generated_numbers_are_valid_and_single_digit_errors_are_caught() -> None:
    rng = random.Random(7)
    for _ in range(200):
        inn10, inn12 = make_inn("77", 10, rng), make_inn("50", 12, rng)
        assert inn_is_valid(inn10) and inn_is_valid(inn12) and inn10.startswith("77")
        bik = rng.choice(list(BANKS))
        account = make_account(bik, rng=rng)
        assert account_is_valid(account, bik) and account.startswith("40702810")
        broken = account[:15] + str((int(account[15]) + 1) % 10) + account[16:]
        assert not account_is_valid(broken, bik)
    assert make_corr_account("044525225") == "30101810400000000225"
    assert account_is_valid(with_check_digit("40702810000000000001", "044525104"), "044525104")


def test_kpp_bik_ogrn_formats() -> None:
    assert kpp_is_valid("774301001") and kpp_is_valid("7743AB001") and not kpp_is_valid("77430100")
    assert make_kpp("7743729438") == "774301001"
    assert bik_is_valid("044525104") and not bik_is_valid("44525104") and not bik_is_valid("144525104")
    assert ogrn_is_valid("1027700132195") and ogrn_is_valid("1257743123450") and not ogrn_is_valid("1257743123451")


def _parties(seed: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for payment in seed.get("payments", []) or []:
        yield payment["counterparty"]


@pytest.mark.parametrize("bank", ["tochka", "tbank", "onec"])
def test_seed_requisites_pass_their_checks(bank: str) -> None:
    seed = yaml.safe_load((ROOT / bank / "seeds" / "demo.yaml").read_text(encoding="utf-8"))
    company = seed.get("customer") or seed["company"]
    assert inn_is_valid(company["inn"]) and kpp_is_valid(company["kpp"])
    if "ogrn" in company:
        assert ogrn_is_valid(company["ogrn"])
    for account in seed["accounts"]:
        assert account_is_valid(account["account"], account["bik"])
    for party in _parties(seed):
        assert inn_is_valid(party["inn"]) and account_is_valid(party["account"], party["bik"]), party
        assert not party["kpp"] or kpp_is_valid(party["kpp"])


def test_fintablo_seed_partner_inns_and_bank_moneybags() -> None:
    seed = yaml.safe_load((ROOT / "fintablo" / "seeds" / "demo.yaml").read_text(encoding="utf-8"))
    assert all(inn_is_valid(p["inn"]) for p in seed["partners"])
    banks = {"40702810575689348581": "044525104", "40702810437283605671": "044525974"}
    bank_bags = [m for m in seed["moneybags"] if m["type"] == "bank"]
    assert {m["number"] for m in bank_bags} == set(banks)  # one moneybag per bank account
    assert all(account_is_valid(m["number"], banks[m["number"]]) for m in bank_bags)

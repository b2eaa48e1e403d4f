"""relay.ru_requisites against an independent oracle: the emulators' generators (emulators/common/ru_bank.py).

Numbers the emulators build as valid must pass; a one-digit typo in an account (or in the BIK digits
its key depends on) must fail. INN is the exception the tax service built in: its check digit is
`sum mod 11 mod 10`, so a typo that moves the remainder between 0 and 10 keeps the same check digit.
Those typos pass any correct validator; the test names them instead of pretending otherwise.
"""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.common import ru_bank
from relay.ru_requisites import check_account, check_bik, check_corr_account, check_inn, check_kpp, check_requisites

BIKS = st.builds(lambda region, bank: "04" + f"{region:02d}" + f"{bank:05d}",
                 st.integers(min_value=0, max_value=99), st.integers(min_value=0, max_value=99_999))
SEEDS = st.integers(min_value=0, max_value=2**32)


def _typos(number: str, positions: range | None = None) -> list[str]:
    """Every number that differs from `number` in exactly one digit."""
    return [number[:i] + d + number[i + 1:] for i in (positions or range(len(number))) for d in "0123456789" if d != number[i]]


@settings(max_examples=60, deadline=None)
@given(bik=BIKS, seed=SEEDS, balance=st.sampled_from(["40702", "40802", "40817", "40701"]))
def test_generated_accounts_pass_and_every_one_digit_typo_fails(bik: str, seed: int, balance: str) -> None:
    account = ru_bank.make_account(bik, balance, rng=random.Random(seed))
    assert check_bik(bik) is None and check_account(account, bik) is None
    for typo in _typos(account):
        problem = check_account(typo, bik)
        assert problem is not None and problem.field == "account", typo
    for typo in _typos(bik, range(6, 9)):  # the settlement key is computed over the BIK's last three digits
        assert check_account(account, typo) is not None, typo


@settings(max_examples=60, deadline=None)
@given(bik=BIKS)
def test_generated_correspondent_accounts_pass_and_every_one_digit_typo_fails(bik: str) -> None:
    corr = ru_bank.make_corr_account(bik)
    assert check_corr_account(corr, bik) is None
    for typo in _typos(corr):
        assert check_corr_account(typo, bik) is not None, typo
    for typo in _typos(bik, range(4, 6)):  # the correspondent key is computed over "0" + the BIK's 5th and 6th digits
        assert check_corr_account(corr, typo) is not None, typo


@settings(max_examples=80, deadline=None)
@given(seed=SEEDS, length=st.sampled_from([10, 12]), prefix=st.sampled_from(["77", "50", "78", "16", "54"]))
def test_generated_inns_pass_and_typos_fail_unless_the_remainder_hides_them(seed: int, length: int, prefix: str) -> None:
    inn = ru_bank.make_inn(prefix, length, random.Random(seed))
    assert check_inn(inn) is None and check_kpp(ru_bank.make_kpp(inn)) is None
    controls = range(9, 10) if length == 10 else range(10, 12)
    for typo in _typos(inn, controls):  # a wrong check digit itself is always caught
        assert check_inn(typo) is not None, typo
    for typo in _typos(inn, range(controls.start)):
        # Agree with the oracle on every typo; the oracle accepts only the 0 ↔ 10 remainder collisions.
        assert (check_inn(typo) is None) == ru_bank.inn_is_valid(typo), typo


def test_the_inn_blind_spot_is_the_official_algorithm_not_the_validator() -> None:
    """7704158220: its weighted sum leaves remainder 10, so its check digit is 10 mod 10 = 0. The typos
    below move the remainder to 0, whose check digit is 0 too: every correct validator accepts them."""
    hidden = [t for t in _typos("7704158220") if check_inn(t) is None]
    assert hidden[:4] == ["2704158220", "7708158220", "7704150220", "7704158420"]
    assert all(ru_bank.inn_is_valid(t) for t in hidden)
    # An INN whose check digit is not 0 has no such neighbours: every one-digit typo is caught.
    assert check_inn("7707083893") is None and not [t for t in _typos("7707083893") if check_inn(t) is None]


def test_each_problem_says_what_is_wrong_in_russian_and_english() -> None:
    assert str(check_inn("7707083894")) == "ИНН 7707083894: неверная контрольная сумма"
    assert check_inn("7707083894").en == "INN 7707083894: wrong check digit"  # type: ignore[union-attr]
    assert str(check_inn("77070838")) == "ИНН 77070838: должен состоять из 10 цифр (организация) или 12 цифр (ИП, физлицо)"
    assert str(check_kpp("7707 01 00")) == "КПП 77070100: должен состоять из 9 знаков: 4 цифры, 2 цифры или латинские буквы, 3 цифры"
    assert check_kpp("7707AB001") is None and check_kpp("773601001") is None
    assert str(check_bik("014525225")) == "БИК 014525225: БИК российского банка начинается с 04"
    assert str(check_bik("04452522")) == "БИК 04452522: должен состоять из 9 цифр"
    assert str(check_account("40702810900000000002", "044525225")) == \
        "Р/с 40702810900000000002: не сходится контрольный ключ с БИК 044525225"
    assert str(check_corr_account("30101810400000000226", "044525225")) == \
        "К/с 30101810400000000226: не сходится контрольный ключ с БИК 044525225"
    assert check_account("4070 2810 4985 2772 0029", "044525225") is None  # pasted with spaces


def test_requisites_are_checked_together_and_a_bad_bik_is_one_problem() -> None:
    good = dict(inn="7704158205", kpp="770401001", bik="044525225", account="40702810498527720029",
                corr_account="30101810400000000225")
    assert check_requisites(**good) == []
    assert check_requisites(inn="7704158205") == []  # empty values are the required-fields rule's business
    bad_bik = check_requisites(**{**good, "bik": "04452522X"})
    assert [p.field for p in bad_bik] == ["bik"]
    short = check_requisites(**{**good, "bik": "", "account": "4070281049852772002"})
    assert [str(p) for p in short] == ["Р/с 4070281049852772002: должен состоять из 20 цифр"]
    all_bad = check_requisites(inn="7704158206", kpp="77040100", bik="044525225", account="40702810498527720028",
                               corr_account="30101810400000000226")
    assert [p.field for p in all_bad] == ["inn", "kpp", "account", "corr_account"]

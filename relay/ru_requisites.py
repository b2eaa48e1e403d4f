"""Russian payment requisites: INN, KPP, BIK, settlement and correspondent accounts.

Pure functions, no I/O: each check returns None for a good value or a `Problem` that says what is
wrong in Russian (for the people who typed it) and in English (for traces and logs), e.g.
"ИНН 7707083894: неверная контрольная сумма". Values are compared as digits: the spaces people paste
from invoices ("4070 2810 …") are dropped first.

The rules are the Federal Tax Service's INN check digits and the Bank of Russia's account key
(Положение 579-П): a 23-digit string (3 digits from the BIK + the 20-digit account) times the
weights 7-1-3 repeated must sum to a multiple of 10. For a settlement account the 3 digits are the
BIK's last three; for a correspondent account they are "0" + the BIK's 5th and 6th digits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_FIRST_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_SECOND_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3) * 8  # 23 positions: 3 from the BIK, then the 20-digit account
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_SPACES = re.compile(r"[\s\u00a0\u202f-]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one requisite. `field` is the requisite (inn, kpp, bik, account, corr_account)."""

    field: str
    ru: str
    en: str

    def __str__(self) -> str:
        return self.ru


def clean(value: Any) -> str:
    """The value as the checks read it: text without spaces, non-breaking spaces or dashes."""
    return _SPACES.sub("", str(value if value is not None else "")).upper()


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def check_inn(value: Any) -> Problem | None:
    """10 digits (an organisation) or 12 (a person or sole trader), with the tax office's check digits."""
    inn = clean(value)
    if not (inn.isdigit() and inn.isascii() and len(inn) in (10, 12)):
        return Problem("inn", f"ИНН {inn}: должен состоять из 10 цифр (организация) или 12 цифр (ИП, физлицо)",
                       f"INN {inn}: must be 10 digits (organisation) or 12 digits (sole trader, person)")
    if len(inn) == 10:
        good = _inn_digit(inn[:9], _INN10_WEIGHTS) == int(inn[9])
    else:
        good = _inn_digit(inn[:10], _INN12_FIRST_WEIGHTS) == int(inn[10]) and \
            _inn_digit(inn[:11], _INN12_SECOND_WEIGHTS) == int(inn[11])
    if not good:
        return Problem("inn", f"ИНН {inn}: неверная контрольная сумма", f"INN {inn}: wrong check digit")
    return None


def check_kpp(value: Any) -> Problem | None:
    """9 characters: tax office (4 digits), reason (2 digits or capital Latin letters), number (3 digits)."""
    kpp = clean(value)
    if not _KPP.match(kpp):
        return Problem("kpp", f"КПП {kpp}: должен состоять из 9 знаков: 4 цифры, 2 цифры или латинские буквы, 3 цифры",
                       f"KPP {kpp}: must be 9 characters: 4 digits, 2 digits or Latin letters, 3 digits")
    return None


def check_bik(value: Any) -> Problem | None:
    """9 digits starting with 04 (a bank in Russia). A BIK has no check digit of its own."""
    bik = clean(value)
    if not (bik.isdigit() and bik.isascii() and len(bik) == 9):
        return Problem("bik", f"БИК {bik}: должен состоять из 9 цифр", f"BIK {bik}: must be 9 digits")
    if not bik.startswith("04"):
        return Problem("bik", f"БИК {bik}: БИК российского банка начинается с 04", f"BIK {bik}: a Russian bank's BIK starts with 04")
    return None


def _account_key_fits(prefix: str, account: str) -> bool:
    """The Bank of Russia's rule, as written: take the last digit of each product, with the key
    position (the 9th account digit) counted as zero; the key is the last digit of 3 × their sum."""
    digits = prefix + account[:8] + "0" + account[9:]
    total = sum(int(d) * w % 10 for d, w in zip(digits, _ACCOUNT_WEIGHTS))
    return total % 10 * 3 % 10 == int(account[8])


def _names(correspondent: bool) -> tuple[str, str, str]:
    return ("corr_account", "К/с", "Correspondent account") if correspondent else ("account", "Р/с", "Account")


def _account_format(account: str, correspondent: bool) -> Problem | None:
    field, ru_name, en_name = _names(correspondent)
    if not (account.isdigit() and account.isascii() and len(account) == 20):
        return Problem(field, f"{ru_name} {account}: должен состоять из 20 цифр", f"{en_name} {account}: must be 20 digits")
    return None


def _check_account(value: Any, bik_value: Any, correspondent: bool) -> Problem | None:
    field, ru_name, en_name = _names(correspondent)
    account, bik = clean(value), clean(bik_value)
    wrong_format = _account_format(account, correspondent)
    if wrong_format:
        return wrong_format
    if check_bik(bik) is not None:
        return Problem(field, f"{ru_name} {account}: не проверен — нет верного БИК", f"{en_name} {account}: not checked, no valid BIK")
    prefix = "0" + bik[4:6] if correspondent else bik[-3:]
    if not _account_key_fits(prefix, account):
        return Problem(field, f"{ru_name} {account}: не сходится контрольный ключ с БИК {bik}",
                       f"{en_name} {account}: control key does not match BIK {bik}")
    return None


def check_account(value: Any, bik: Any) -> Problem | None:
    """A settlement account (расчётный счёт): 20 digits whose key fits the BIK's last three digits."""
    return _check_account(value, bik, correspondent=False)


def check_corr_account(value: Any, bik: Any) -> Problem | None:
    """The bank's correspondent account: 20 digits whose key fits "0" + the BIK's 5th and 6th digits."""
    return _check_account(value, bik, correspondent=True)


def check_requisites(inn: Any = "", kpp: Any = "", bik: Any = "", account: Any = "", corr_account: Any = "") -> list[Problem]:
    """Every problem among the requisites given; an empty value is not checked (required is a separate rule).

    The account keys are checked only against a good BIK: a wrong or missing BIK is reported once,
    and the accounts then only for their length."""
    problems = [found for value, check in ((inn, check_inn), (kpp, check_kpp), (bik, check_bik))
                if clean(value) and (found := check(value))]
    bik_good = bool(clean(bik)) and check_bik(bik) is None
    for value, correspondent in ((account, False), (corr_account, True)):
        if not clean(value):
            continue
        found = _check_account(value, bik, correspondent) if bik_good else _account_format(clean(value), correspondent)
        if found:
            problems.append(found)
    return problems

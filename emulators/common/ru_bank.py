"""Russian bank requisites: INN/KPP/BIK/account check digits, generators and a small bank directory.

Seeds and generated counterparties must carry numbers a real client library would accept
(INN and account control digits are checked by 1C, banks and many CRM integrations), so the
rules live here once and every emulator builds its numbers through them.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

_INN10_W = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_W = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_W = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACC_W = (7, 1, 3) * 8  # 23 weights: 3 key digits + 20 account digits
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_BIK_RE = re.compile(r"^04\d{7}$")


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """10-digit (organisation) or 12-digit (person/IP) INN with correct control digits."""
    if not isinstance(inn, str) or not inn.isdigit():
        return False
    if len(inn) == 10:
        return _weighted(inn[:9], _INN10_W) == int(inn[9])
    if len(inn) == 12:
        return _weighted(inn[:10], _INN11_W) == int(inn[10]) and _weighted(inn[:11], _INN12_W) == int(inn[11])
    return False


def make_inn(prefix: str, length: int = 10, rng: random.Random | None = None) -> str:
    """A valid INN starting with `prefix` (region + tax office digits), padded with random digits."""
    rng = rng or random.Random()
    body_len = 9 if length == 10 else 10
    body = (prefix + "".join(str(rng.randint(0, 9)) for _ in range(body_len)))[:body_len]
    if length == 10:
        return body + str(_weighted(body, _INN10_W))
    n11 = str(_weighted(body, _INN11_W))
    return body + n11 + str(_weighted(body + n11, _INN12_W))


def kpp_is_valid(kpp: str) -> bool:
    """KPP has no control digit; it is 4 digits of tax office, 2 of reason (digits or A-Z), 3 of sequence."""
    return isinstance(kpp, str) and bool(_KPP_RE.match(kpp))


def make_kpp(inn: str, reason: str = "01", seq: str = "001") -> str:
    """KPP of the head office registered where the INN was issued (first 4 INN digits)."""
    return inn[:4] + reason + seq


def ogrn_is_valid(ogrn: str) -> bool:
    """13-digit OGRN (organisation): last digit = first 12 mod 11 mod 10; 15-digit OGRNIP: mod 13 mod 10."""
    if not (isinstance(ogrn, str) and ogrn.isdigit() and len(ogrn) in (13, 15)):
        return False
    modulus = 11 if len(ogrn) == 13 else 13
    return int(ogrn[:-1]) % modulus % 10 == int(ogrn[-1])


def bik_is_valid(bik: str) -> bool:
    """Russian BIK: 9 digits starting with 04 (it carries no control digit of its own)."""
    return isinstance(bik, str) and bool(_BIK_RE.match(bik))


def _account_key(bik: str, account: str, correspondent: bool) -> str:
    return ("0" + bik[4:6] if correspondent else bik[-3:]) + account


def account_is_valid(account: str, bik: str, correspondent: bool = False) -> bool:
    """20-digit account whose 9th digit matches the Bank of Russia key over BIK + account."""
    if not (isinstance(account, str) and len(account) == 20 and account.isdigit() and bik_is_valid(bik)):
        return False
    key = _account_key(bik, account, correspondent)
    return sum(int(d) * w % 10 for d, w in zip(key, _ACC_W)) % 10 == 0


def with_check_digit(account: str, bik: str, correspondent: bool = False) -> str:
    """Return `account` with its 9th digit (index 8) replaced by the one control digit that fits."""
    for digit in "0123456789":
        candidate = account[:8] + digit + account[9:]
        if account_is_valid(candidate, bik, correspondent):
            return candidate
    raise ValueError(f"not an account number: {account!r} (BIK {bik!r})")


def make_account(bik: str, balance: str = "40702", currency: str = "810",
                 rng: random.Random | None = None, tail: str | None = None) -> str:
    """A valid settlement account: balance-sheet prefix (40702 LLC, 40802 IP), currency, key, 11 digits."""
    rng = rng or random.Random()
    rest = tail if tail is not None else "".join(str(rng.randint(0, 9)) for _ in range(11))
    return with_check_digit(balance + currency + "0" + rest.rjust(11, "0")[-11:], bik)


def make_corr_account(bik: str) -> str:
    """The bank's correspondent account at the Bank of Russia: 30101810 + key + 8 digits + last 3 of BIK."""
    return with_check_digit("30101810" + "0" + "00000000" + bik[-3:], bik, correspondent=True)


@dataclass(frozen=True)
class Bank:
    """A bank as it appears in payment requisites."""

    bik: str
    name: str
    corr_account: str
    city: str = "Москва"


BANKS: dict[str, Bank] = {b.bik: b for b in (
    Bank("044525104", "ООО \"Банк Точка\"", "30101810745374525104"),
    Bank("044525974", "АО \"ТБанк\"", "30101810145250000974"),
    Bank("044525225", "ПАО Сбербанк", "30101810400000000225"),
    Bank("044525593", "АО \"АЛЬФА-БАНК\"", "30101810200000000593"),
    Bank("044525187", "Банк ВТБ (ПАО)", "30101810700000000187"),
    Bank("044030653", "Северо-Западный банк ПАО Сбербанк", "30101810500000000653", "Санкт-Петербург"),
)}


def bank(bik: str) -> Bank:
    """Directory lookup; unknown BIKs get a synthetic but internally consistent entry."""
    found = BANKS.get(bik)
    if found is not None:
        return found
    return Bank(bik, f"Банк (БИК {bik})", make_corr_account(bik))

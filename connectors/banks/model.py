"""A bank operation as the relay keeps it, whatever route brought it, and its cross-route key.

Every route (Tochka webhook, Tochka statement, T-Bank statement, 1C file) is reduced to the same
`Operation`, so "the same payment" can be recognised by bank-level facts that every route repeats:
our account, direction, counterparty account, document number, amount and posting date. Bank ids
(Tochka `paymentId`, T-Bank `operationId`) exist on some routes only; they are kept as per-route
duplicate checks, never as the identity.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MSK = timezone(timedelta(hours=3), "MSK")
"""Banks date their documents in Moscow time (no DST since 2014)."""

ROUTES = ("tochka-webhook", "tochka-statement", "tbank-statement", "1c-file")
_SPACES = re.compile(r"[\s\u00a0\u202f']+")


def kopecks(value: Any) -> int:
    """An amount (number, `"12000.5"`, `"12 000,50"`, `15000-00`) as integer kopecks.

    Raises ValueError for anything that is not an amount, so a route never stores a guess.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    text = _SPACES.sub("", str(value)).replace(",", ".")
    if re.fullmatch(r"\d+-\d{2}", text):
        text = text.replace("-", ".")
    if not re.fullmatch(r"-?\d{1,15}(\.\d+)?", text):  # no exponents, nothing a bank account could not hold
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"not an amount: {value!r}") from None
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def rubles(amount_kopecks: int) -> str:
    """`4850075` → `"48500.75"`: exact, for payloads and templates (floats would round)."""
    sign = "-" if amount_kopecks < 0 else ""
    whole, cents = divmod(abs(amount_kopecks), 100)
    return f"{sign}{whole}.{cents:02d}"


def msk_date(moment: str) -> date:
    """The Moscow date of an ISO 8601 moment (`...Z`, an offset, or naive = UTC, as T-Bank sends)."""
    parsed = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(MSK).date()


def clean_number(number: Any) -> str:
    """Document number for the key: no spaces, no leading zeros (`00315` and `315` are one order)."""
    text = _SPACES.sub("", str(number or ""))
    stripped = text.lstrip("0")
    return stripped or ("0" if text else "")


def digits(value: Any) -> str:
    """Account, INN, KPP, BIK: digits (and KPP letters) only, as banks print them with spaces."""
    return _SPACES.sub("", str(value or "")).strip()


def real_inn(inn: str) -> bool:
    """An INN worth keying on: 10 or 12 digits, not the `0`/`0000000000` of budget and anonymous payers."""
    return inn.isdigit() and len(inn) in (10, 12) and set(inn) != {"0"}


@dataclass
class Operation:
    """One posted operation on one of our accounts, as one route reported it."""

    route: str
    account: str
    direction: str  # "C" credit (incoming) | "D" debit (outgoing)
    amount_kopecks: int
    posted_on: date
    document_number: str
    purpose: str
    counterparty_name: str = ""
    counterparty_inn: str = ""
    counterparty_kpp: str = ""
    counterparty_account: str = ""
    counterparty_bik: str = ""
    counterparty_bank: str = ""
    currency: str = "RUB"
    document_date: date | None = None
    route_id: str = ""  # Tochka paymentId / T-Bank operationId: a duplicate check within one bank
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.direction not in ("C", "D"):
            raise ValueError(f"direction must be C or D, not {self.direction!r}")
        if self.amount_kopecks <= 0:
            raise ValueError(f"amount must be positive, got {rubles(self.amount_kopecks)}")
        if not re.fullmatch(r"\d{20}", self.account):
            raise ValueError(f"our account must be 20 digits, got {self.account!r}")

    @property
    def key(self) -> str:
        """The cross-route identity (see docs/banks.md). Without a document number the bank's own
        id stands in for it, so two unnumbered card payments of one amount on one day stay apart."""
        number = clean_number(self.document_number) or f"#{self.route_id}"
        key = "|".join((self.account, self.direction, self.counterparty_account, number,
                        str(self.amount_kopecks), self.posted_on.isoformat()))
        # Real keys are ~80 characters; odd input (a 64-character "number") must still fit the column.
        return key if len(key) <= 200 else f"{key[:100]}|sha256:{hashlib.sha256(key.encode()).hexdigest()}"

    @property
    def bank(self) -> str:
        """Which bank's id space `route_id` belongs to (`tochka`, `tbank`), empty for files."""
        return self.route.split("-")[0] if self.route.startswith(("tochka", "tbank")) else ""


def entity_key(counterparty_inn: str, op_key: str) -> str:
    """Events of one counterparty are processed one at a time, in order (one partner, not two)."""
    return f"bank:inn:{counterparty_inn}" if real_inn(counterparty_inn) else f"bank:op:{op_key}"

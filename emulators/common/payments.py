"""One payment model behind every bank route: Tochka webhook and statement, T-Bank statement, 1C file.

A real payment order carries bank-level facts that every route repeats (document number and
date, amount, both accounts, INNs, purpose); only the bank's own ids differ per route. Keeping
one `Payment` and rendering it per route lets a test make "the same payment" arrive several ways.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emulators.common.clock import MSK
from emulators.common.ru_bank import account_is_valid, bank, bik_is_valid, inn_is_valid, kpp_is_valid

Direction = Literal["incoming", "outgoing"]
CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """Parse an amount (number or string, dot or comma decimal) into kopeck-exact Decimal."""
    try:
        amount = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt2(amount: Decimal) -> str:
    """`1234.50`: the 1C file and most bank documents print two decimals with a dot."""
    return f"{amount.quantize(CENT):.2f}"


def py_float_str(amount: Decimal) -> str:
    """`40.0`, `12000.5`: how Tochka's Python-made webhook claims print amounts (str of a float)."""
    return str(float(amount))


def as_number(amount: Decimal) -> float:
    """JSON number for statement APIs (Tochka `Amount.amount`, T-Bank `accountAmount`)."""
    return float(amount)


@dataclass(frozen=True)
class Party:
    """One side of a payment order as printed on it."""

    name: str
    inn: str
    kpp: str
    account: str
    bik: str
    bank_name: str = ""
    corr_account: str = ""

    def __post_init__(self) -> None:
        if not self.bank_name or not self.corr_account:
            directory = bank(self.bik)
            object.__setattr__(self, "bank_name", self.bank_name or directory.name)
            object.__setattr__(self, "corr_account", self.corr_account or directory.corr_account)


@dataclass
class Payment:
    """A posted (or pending) payment on one of our accounts."""

    owner: Party
    counterparty: Party
    direction: Direction
    amount: Decimal
    purpose: str
    date: date
    time: time
    document_number: str
    document_date: date
    document_type: str = "Платежное поручение"
    status: Literal["booked", "pending"] = "booked"
    priority: str = "5"
    currency: str = "RUB"
    ids: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def account(self) -> str:
        return self.owner.account

    @property
    def payer(self) -> Party:
        return self.counterparty if self.direction == "incoming" else self.owner

    @property
    def recipient(self) -> Party:
        return self.owner if self.direction == "incoming" else self.counterparty

    @property
    def booked_at(self) -> datetime:
        """Posting moment, Moscow time (aware)."""
        return datetime.combine(self.date, self.time, tzinfo=MSK)

    @property
    def booked_at_utc(self) -> datetime:
        return self.booked_at.astimezone(timezone.utc)

    def signed(self) -> Decimal:
        return self.amount if self.direction == "incoming" else -self.amount


def _parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    text = str(value)
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date must be YYYY-MM-DD or dd.mm.yyyy: {value!r}")


class PartySpec(BaseModel):
    """Counterparty as a test or the control endpoint describes it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    inn: str
    kpp: str = ""
    account: str
    bik: str
    bank_name: str = Field("", alias="bankName")
    corr_account: str = Field("", alias="corrAccount")

    @field_validator("inn", "kpp", "account", "bik", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> str:
        return "" if value is None else str(value)


class PaymentSpec(BaseModel):
    """Body of `POST /_emulator/payments` ("a payment happens"), shared by the bank emulators."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    direction: Direction = "incoming"
    amount: Decimal
    purpose: str = Field(min_length=1)
    counterparty: PartySpec
    account: str | None = Field(None, description="our account number or Tochka accountId; default: first account")
    date: str | None = None
    time: str | None = None
    document_number: str | None = Field(None, alias="documentNumber")
    document_date: str | None = Field(None, alias="documentDate")
    document_type: str = Field("Платежное поручение", alias="documentType")
    status: Literal["booked", "pending"] = "booked"
    ids: dict[str, str] = Field(default_factory=dict,
                                description="force bank ids: paymentId, transactionId, operationId")
    strict: bool = Field(True, description="reject counterparties whose INN/KPP/BIK/account fail their checks")
    extra: dict[str, Any] = Field(default_factory=dict, description="route-specific extras (e.g. SBP fields)")

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        amount = money(value)
        if amount <= 0:
            raise ValueError("amount must be positive; direction says which way it goes")
        return amount

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, value: Any) -> str:
        aliases = {"in": "incoming", "credit": "incoming", "out": "outgoing", "debit": "outgoing"}
        return aliases.get(str(value).lower(), str(value).lower())

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if len(value) > 210:
            raise ValueError("purpose (field 24) is at most 210 characters")
        return value


def check_party(spec: PartySpec) -> list[str]:
    """Human-readable reasons why these requisites would be rejected by a bank; empty if fine."""
    problems = []
    if not inn_is_valid(spec.inn):
        problems.append(f"bad INN {spec.inn}")
    if spec.kpp and not kpp_is_valid(spec.kpp):
        problems.append(f"bad KPP {spec.kpp}")
    if not bik_is_valid(spec.bik):
        problems.append(f"bad BIK {spec.bik}")
    elif not account_is_valid(spec.account, spec.bik):
        problems.append(f"account {spec.account} fails its control digit for BIK {spec.bik}")
    return problems


def build_payment(spec: PaymentSpec, owner: Party, now: datetime, number: str) -> Payment:
    """Turn a validated spec into a Payment for `owner`; `now` (Moscow) fills date/time, `number` the doc number."""
    if spec.strict:
        problems = check_party(spec.counterparty)
        if problems:
            raise ValueError("; ".join(problems))
    cp = spec.counterparty
    counterparty = Party(cp.name, cp.inn, cp.kpp, cp.account, cp.bik, cp.bank_name, cp.corr_account)
    day = _parse_date(spec.date) if spec.date else now.date()
    at = time.fromisoformat(spec.time) if spec.time else now.time().replace(microsecond=0)
    return Payment(
        owner=owner, counterparty=counterparty, direction=spec.direction, amount=spec.amount,
        purpose=spec.purpose, date=day, time=at, document_number=spec.document_number or number,
        document_date=_parse_date(spec.document_date) if spec.document_date else day,
        document_type=spec.document_type, status=spec.status, ids=dict(spec.ids), extra=dict(spec.extra),
    )


class Ledger:
    """Thread-safe payments per our account, with opening balances, for statements and 1C export."""

    def __init__(self, opening: dict[str, Decimal] | None = None) -> None:
        self._lock = threading.Lock()
        self._opening = dict(opening or {})
        self._payments: list[Payment] = []

    def add(self, payment: Payment) -> Payment:
        with self._lock:
            self._payments.append(payment)
        return payment

    def update(self, payment: Payment, **changes: Any) -> Payment:
        with self._lock:
            index = self._payments.index(payment)
            self._payments[index] = replace(payment, **changes)
            return self._payments[index]

    def all(self, account: str | None = None) -> list[Payment]:
        with self._lock:
            items = list(self._payments)
        return [p for p in items if account is None or p.account == account]

    def between(self, account: str, start: date, end: date, booked_only: bool = True) -> list[Payment]:
        """Payments on `account` posted from `start` to `end` inclusive (Moscow dates), in posting order."""
        items = [p for p in self.all(account) if start <= p.date <= end and (p.status == "booked" or not booked_only)]
        return sorted(items, key=lambda p: (p.booked_at, p.uid))

    def balance_before(self, account: str, day: date) -> Decimal:
        """Balance at the start of `day`: opening balance plus every booked payment before it."""
        total = self._opening.get(account, Decimal("0"))
        return total + sum((p.signed() for p in self.all(account) if p.status == "booked" and p.date < day),
                           Decimal("0"))

    def find(self, key: str, value: str) -> Payment | None:
        return next((p for p in self.all() if p.ids.get(key) == value), None)


def totals(payments: Iterable[Payment]) -> tuple[Decimal, Decimal]:
    """(incoming, outgoing) sums, for statement headers and 1C balance sections."""
    payments = list(payments)
    credit = sum((p.amount for p in payments if p.direction == "incoming"), Decimal("0"))
    debit = sum((p.amount for p in payments if p.direction == "outgoing"), Decimal("0"))
    return credit, debit


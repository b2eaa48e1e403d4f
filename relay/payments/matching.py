"""Which deal a payment belongs to, given the payment and the candidates found for it.

The caller (a CRM connector's action) looks the candidates up; this module only decides, so the
same decision serves incoming payments against deals and, later, outgoing payments against payment
requests. Order (docs/payments.md):

1. the invoice number(s) in the purpose: the deal(s) holding that invoice;
2. the payer's INN: among the open deals of that client, the one whose remaining amount equals the
   payment, or else the only one still waiting for money;
3. anything else (nothing found, several equally good) waits in the review list with its candidates.

When an invoice number leads to several deals, narrowing filters are applied one after another as
long as they leave someone: not closed, the payer's own deal, still waiting for money.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

from relay.payments.money import pretty, rub

Outcome = Literal["match", "review", "skip"]
RUBLES = {"", "RUB", "RUR", "643"}


@dataclass(frozen=True)
class Payment:
    """The facts of one payment the decision needs."""

    amount_kopecks: int
    payer_inn: str = ""
    payer_name: str = ""
    invoices: tuple[str, ...] = ()
    currency: str = "RUB"


@dataclass(frozen=True)
class Candidate:
    """A deal the payment may belong to, with what it expects and what it has been paid so far."""

    id: str
    title: str
    amount_kopecks: int
    paid_kopecks: int = 0
    via: str = ""  # "invoice 123", "ИНН 7701256557"
    invoice_id: str = ""
    client_matches: bool | None = None  # the deal's client has the payer's INN (None: unknown)
    closed: bool = False

    @property
    def remaining_kopecks(self) -> int:
        return self.amount_kopecks - self.paid_kopecks

    def as_dict(self) -> dict[str, Any]:
        """For the review list: `id` and `label` are what every review screen shows."""
        return {"id": self.id, "label": f"#{self.id} «{self.title}»: {pretty(self.amount_kopecks)}, paid "
                f"{pretty(self.paid_kopecks)}" + (f" ({self.via})" if self.via else ""),
                "deal": self.id, "title": self.title, "amount": rub(self.amount_kopecks), "paid": rub(self.paid_kopecks),
                "remaining": rub(self.remaining_kopecks), "via": self.via, "invoice_id": self.invoice_id}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    candidate: Candidate | None = None
    candidates: tuple[Candidate, ...] = field(default=())
    how: str = ""  # "invoice", "inn+amount", "inn: the only open deal"


def _unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in candidates:
        seen.setdefault(c.id, c)
    return list(seen.values())


def _narrow(candidates: list[Candidate], tolerance: int) -> list[Candidate]:
    """Apply each filter that leaves at least one candidate; stop once one is left."""
    filters: list[Callable[[Candidate], bool]] = [
        lambda c: not c.closed,
        lambda c: c.client_matches is True,
        lambda c: c.remaining_kopecks > tolerance,
    ]
    for keep in filters:
        if len(candidates) <= 1:
            break
        kept = [c for c in candidates if keep(c)]
        candidates = kept or candidates
    return candidates


def decide(payment: Payment, by_invoice: Sequence[Candidate], by_inn: Sequence[Candidate] | None,
           tolerance_kopecks: int = 0) -> Decision:
    """Match, review, or skip. `by_inn` is None when no client with the payer's INN exists."""
    if payment.currency.upper() not in RUBLES:
        return Decision("review", f"the payment is in {payment.currency}: match it by hand", candidates=tuple(by_invoice))
    invoices = ", ".join(payment.invoices)
    found = _unique(by_invoice)
    if found:
        narrowed = _narrow(found, tolerance_kopecks)
        if len(narrowed) == 1:
            return Decision("match", f"invoice {narrowed[0].via.removeprefix('invoice ') or invoices}", narrowed[0], how="invoice")
        return Decision("review", f"invoice {invoices} belongs to {len(narrowed)} deals", candidates=tuple(narrowed))
    missing = f"no deal holds invoice {invoices}; " if payment.invoices else "no invoice number in the purpose; "
    if by_inn is None:
        who = f"ИНН {payment.payer_inn}" if payment.payer_inn else "no INN"
        return Decision("review", missing + f"no client with the payer's {who}")
    deals = _unique(by_inn)
    if not deals:
        return Decision("review", missing + f"the client with ИНН {payment.payer_inn} has no open deal")
    exact = [c for c in deals if abs(c.remaining_kopecks - payment.amount_kopecks) <= tolerance_kopecks]
    if len(exact) == 1:
        return Decision("match", missing + f"ИНН {payment.payer_inn} and the amount still due", exact[0], how="inn+amount")
    if len(exact) > 1:
        return Decision("review", missing + f"{len(exact)} open deals of ИНН {payment.payer_inn} wait for exactly "
                        f"{pretty(payment.amount_kopecks)}", candidates=tuple(exact))
    waiting = [c for c in deals if c.remaining_kopecks > tolerance_kopecks]
    if len(waiting) == 1:
        return Decision("match", missing + f"ИНН {payment.payer_inn}: the only open deal waiting for money", waiting[0],
                        how="inn: the only open deal")
    if not waiting:
        return Decision("review", missing + f"every open deal of ИНН {payment.payer_inn} is paid already",
                        candidates=tuple(deals))
    return Decision("review", missing + f"{len(waiting)} open deals of ИНН {payment.payer_inn}, none waiting for "
                    f"exactly {pretty(payment.amount_kopecks)}", candidates=tuple(waiting))


Status = Literal["unpaid", "partial", "paid", "overpaid"]


def payment_status(amount_kopecks: int, paid_kopecks: int, tolerance_kopecks: int = 0) -> Status:
    """unpaid → partial → paid (within the tolerance) → overpaid. A deal without an amount is paid by
    any payment: nothing tells how much it expects."""
    if paid_kopecks <= 0:
        return "unpaid"
    if amount_kopecks <= 0:
        return "paid"
    if paid_kopecks < amount_kopecks - tolerance_kopecks:
        return "partial"
    if paid_kopecks > amount_kopecks + tolerance_kopecks:
        return "overpaid"
    return "paid"

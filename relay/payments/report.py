"""S16: the finance report per project — sale price, upsell, income, expenses, profit, client balance.

Income and expense records are the bank operations linked to the project's deals in the store (the
sale itself and its upsell deals); price and upsell are the deals' amounts as the CRM shows them now.
Without a CRM connector the money columns are still right and price, upsell and balance stay empty.

    profit  = income − expenses              (money actually in, minus money actually out)
    balance = price + upsell − income        (what the client still owes; negative: paid ahead)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from relay.payments.directory import DealDirectory, DealFacts
from relay.payments.ledger import Booked, Ledger
from relay.payments.money import rub

INCOME_ARTICLE, EXPENSE_ARTICLE = "Оплата от клиента", "Расход по проекту"


@dataclass(frozen=True)
class Record:
    """One income or expense line: date, amount, article, comment, counterparty."""

    posted_on: date
    kind: str  # income | expense
    amount_kopecks: int
    article: str
    comment: str
    counterparty: str
    deal_id: str
    operation_id: int

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.posted_on.isoformat(), "kind": self.kind, "amount": rub(self.amount_kopecks), "article": self.article,
                "comment": self.comment, "counterparty": self.counterparty, "deal": self.deal_id, "operation": self.operation_id}


@dataclass
class Project:
    deal_id: str
    title: str = ""
    price: int | None = None
    upsell: int | None = None
    upsell_deals: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    @property
    def income(self) -> int:
        return sum(r.amount_kopecks for r in self.records if r.kind == "income")

    @property
    def expenses(self) -> int:
        return sum(r.amount_kopecks for r in self.records if r.kind == "expense")

    @property
    def profit(self) -> int:
        return self.income - self.expenses

    @property
    def balance(self) -> int | None:
        return None if self.price is None else self.price + (self.upsell or 0) - self.income

    def as_dict(self, records: bool = False) -> dict[str, Any]:
        def money(value: int | None) -> str | None:
            return None if value is None else rub(value)
        out: dict[str, Any] = {"deal": self.deal_id, "title": self.title, "price": money(self.price), "upsell": money(self.upsell),
                               "upsell_deals": self.upsell_deals, "income": rub(self.income), "expenses": rub(self.expenses),
                               "profit": rub(self.profit), "balance": money(self.balance)}
        if records:
            out["records"] = [r.as_dict() for r in self.records]
        return out


def _record(b: Booked) -> Record:
    income = b.direction == "C"
    who = f"{b.counterparty} (ИНН {b.inn})" if b.inn else b.counterparty
    return Record(b.posted_on, "income" if income else "expense", b.amount_kopecks,
                  b.article or (INCOME_ARTICLE if income else EXPENSE_ARTICLE), b.comment or b.purpose, who, b.deal_id, b.operation_id)


def build(ledger: Ledger, directory: DealDirectory | None, deal_ids: Iterable[str] | None = None,
          since: date | None = None, until: date | None = None) -> list[Project]:
    """One project per sale: the deals asked for, or every deal a payment is linked to (an upsell
    counts toward its sale). Records outside since..until are left out; prices are not dated."""
    linked = list(deal_ids) if deal_ids is not None else ledger.deal_ids()
    facts: dict[str, DealFacts] = directory.deals(linked) if directory else {}
    roots = list(dict.fromkeys((facts[d].upsell_of if d in facts and facts[d].upsell_of and deal_ids is None else d)
                               for d in linked))
    if directory:
        facts.update(directory.deals([r for r in roots if r not in facts]))
    upsells = directory.upsells(roots) if directory else []
    projects = []
    for root in roots:
        sale = facts.get(root)
        extra = [u for u in upsells if u.upsell_of == root]
        project = Project(root, sale.title if sale else "", sale.amount_kopecks if sale else None,
                          sum(u.amount_kopecks for u in extra) if sale else None, [u.id for u in extra])
        for booked in ledger.booked([root, *project.upsell_deals]):
            if (since is None or booked.posted_on >= since) and (until is None or booked.posted_on <= until):
                project.records.append(_record(booked))
        projects.append(project)
    return projects

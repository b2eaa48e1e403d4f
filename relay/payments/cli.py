"""`python app.py payments`: the payments review list, manual assignment, the finance report (S16).

    payments review                                 open payment items: amount, payer, purpose, candidates
    payments review --resolve ID --deal N           the payment belongs to deal N (the rules apply it)
    payments review --dismiss ID --note "refund"    close without a deal
    payments assign OPERATION --deal N              link any operation by hand (e.g. a project expense)
    payments report [--deal N] [--from D] [--to D]  price, upsell, income, expenses, profit, balance
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from typing import Any

from relay.cli import register_command
from relay.errors import PermanentError, TransientError
from relay.payments.directory import DEFAULT_MAPPING, directory
from relay.payments.ledger import Ledger
from relay.payments.money import pretty
from relay.payments.report import Project, build
from relay.payments.review import KIND, check_resolution, describe, review_payload, subject_of
from relay.reviews import ReviewError


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="payments", required=True, metavar="review|assign|report")
    r = sub.add_parser("review", help="payments waiting for a person; --resolve ID --deal N, --dismiss ID")
    r.add_argument("--resolve", type=int, metavar="ID", help="review item to resolve (needs --deal)")
    r.add_argument("--dismiss", type=int, metavar="ID", help="review item to close without a deal")
    r.add_argument("--all", action="store_true", help="list resolved and dismissed items too")
    a = sub.add_parser("assign", help="link a bank operation to a deal by hand (a project expense, a payment left unmatched)")
    a.add_argument("operation", help="operation id (as review items show it) or key")
    for q in (r, a):
        q.add_argument("--deal", required=q is a, help="the deal the payment belongs to")
        q.add_argument("--article", default="", help="report article, e.g. «Подрядчики»")
        q.add_argument("--comment", default="", help="report comment")
        q.add_argument("--by", default="cli", help="who decides (kept with the item)")
    r.add_argument("--note", default="", help="with --dismiss: why")
    t = sub.add_parser("report", help="per project: sale price, upsell, income, expenses, profit, client balance (S16)")
    t.add_argument("--deal", action="append", default=None, help="only this project (repeatable); also lists its records")
    t.add_argument("--from", dest="since", type=date.fromisoformat, help="records from this date (YYYY-MM-DD)")
    t.add_argument("--to", dest="until", type=date.fromisoformat, help="records up to this date")
    t.add_argument("--format", choices=["text", "json", "csv"], default="text")
    t.add_argument("--mapping", default=DEFAULT_MAPPING, help="the payments mapping (where upsell deals point to their sale)")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _resolution(args: argparse.Namespace) -> dict[str, Any]:
    resolution: dict[str, Any] = {"deal": str(args.deal).strip()}
    resolution.update({k: v for k, v in (("article", args.article), ("comment", args.comment)) if v})
    return resolution


def review(args: argparse.Namespace, runtime: Any) -> int:
    reviews = runtime.reviews
    try:
        if args.dismiss is not None:
            item = reviews.dismiss(args.dismiss, by=args.by, note=args.note)
            print(f"dismissed payment item {item.id}")
            return 0
        if args.resolve is not None:
            item = reviews.get(args.resolve)
            if item is None or item.kind != KIND:
                return _fail(f"no payment review item {args.resolve}; list them with `python app.py payments review`")
            if not args.deal:
                return _fail("--resolve needs --deal N (the deal this payment belongs to)")
            problem = check_resolution(runtime, item, _resolution(args))
            if problem:
                return _fail(problem)
            reviews.resolve(item.id, _resolution(args), by=args.by)
            print(f"resolved payment item {item.id}: deal {args.deal}; the rules apply it with the next worker pass")
            return 0
    except ReviewError as exc:
        return _fail(str(exc))
    items = reviews.list(KIND, None if args.all else "open")
    for item in items:
        print("\n".join(describe(item)))
    print(f"{len(items)} payment item(s)" if items else "no payment waits for review")
    return 0


def assign(args: argparse.Namespace, runtime: Any) -> int:
    op = Ledger(runtime.store, runtime.links).operation(args.operation)
    if op is None:
        return _fail(f"no bank operation {args.operation!r}; ids and keys are in `python app.py payments review` and the events")
    reviews, resolution = runtime.reviews, _resolution(args)
    item = reviews.find(KIND, subject_of(op)) or reviews.open(KIND, subject_of(op), "assigned by hand", review_payload(op))
    if item.status != "open":
        return _fail(f"operation {op['id']} was {item.status} already (review item {item.id}, by {item.resolved_by})")
    problem = check_resolution(runtime, item, resolution)
    if problem:
        return _fail(problem)
    reviews.resolve(item.id, resolution, by=args.by)
    print(f"operation {op['id']} ({op['amount']} {op['currency']}) assigned to deal {args.deal}; the rules apply it with the next worker pass")
    return 0


def _money(value: int | None) -> str:
    return "—" if value is None else pretty(value)


def _print_text(projects: list[Project], details: bool) -> None:
    head = f"{'deal':>6}  {'title':<28} {'price':>14} {'upsell':>12} {'income':>14} {'expenses':>12} {'profit':>14} {'balance':>14}"
    print(head)
    for p in projects:
        print(f"{p.deal_id:>6}  {p.title[:28]:<28} {_money(p.price):>14} {_money(p.upsell):>12} {_money(p.income):>14} "
              f"{_money(p.expenses):>12} {_money(p.profit):>14} {_money(p.balance):>14}")
        if details:
            if p.upsell_deals:
                print(f"        upsell deals: {', '.join(p.upsell_deals)}")
            for r in p.records:
                sign = "+" if r.kind == "income" else "-"
                print(f"        {r.posted_on}  {sign}{_money(r.amount_kopecks):>13}  {r.article}  {r.counterparty}  {r.comment}")


def report(args: argparse.Namespace, runtime: Any) -> int:
    try:
        projects = build(Ledger(runtime.store, runtime.links), directory(runtime, args.mapping), args.deal, args.since, args.until)
    except (PermanentError, TransientError) as exc:  # a wrong mapping, or the CRM cannot be reached for prices
        return _fail(f"the report needs the CRM's deals: {exc}")
    details = bool(args.deal)
    if args.format == "json":
        print(json.dumps([p.as_dict(records=details) for p in projects], ensure_ascii=False, indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(["deal", "title", "price", "upsell", "income", "expenses", "profit", "balance"])
        for p in projects:
            d = p.as_dict()
            writer.writerow([d[k] if d[k] is not None else "" for k in ("deal", "title", "price", "upsell", "income", "expenses", "profit", "balance")])
    elif projects:
        _print_text(projects, details)
    else:
        print("no payments are linked to deals yet")
    return 0


def run(args: argparse.Namespace, runtime: Any) -> int:
    return {"review": review, "assign": assign, "report": report}[args.payments](args, runtime)


register_command("payments", "Payments matched to deals: review the unmatched (`payments review`), assign by hand, the finance report (S16)",
                 add_arguments, run)

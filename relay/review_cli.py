"""`python app.py review`: list the review list, resolve or dismiss an item."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from relay.cli import register_command
from relay.reviews import Review, ReviewError


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_resolution(pairs: list[str]) -> dict[str, Any]:
    """`deal=42 note="paid twice"` → {"deal": 42, "note": "paid twice"}; JSON values where they parse."""
    resolution: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r} is not key=value (e.g. deal=42)")
        resolution[key] = _value(value)
    return resolution


def line(item: Review) -> str:
    options = ", ".join(str(c.get("label") or c.get("id")) for c in item.candidates[:3])
    more = f"  candidates: {options}" if options else ""
    return f"{item.id:>6}  {item.opened_at:%Y-%m-%d %H:%M}  {item.status:<9} {item.kind:<10} {item.subject:<28} {item.reason}{more}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "resolve", "dismiss"])
    p.add_argument("item", nargs="?", type=int, help="review item id (show, resolve, dismiss)")
    p.add_argument("resolution", nargs="*", help="resolve: key=value pairs, e.g. deal=42")
    p.add_argument("--kind", help="only this kind (payment, form, ...)")
    p.add_argument("--status", default="open", choices=["open", "resolved", "dismissed", "all"])
    p.add_argument("--note", default="", help="dismiss: why")
    p.add_argument("--by", default="cli", help="who decides (recorded with the item)")


def run(args: argparse.Namespace, runtime: Any) -> int:
    reviews = runtime.reviews
    if args.action == "list":
        items = reviews.list(args.kind, None if args.status == "all" else args.status)
        for item in items:
            print(line(item))
        print(f"{len(items)} item(s)" if items else "nothing waits for review")
        return 0
    if args.item is None:
        print(f"error: `review {args.action}` needs an item id; list them with `python app.py review`", file=sys.stderr)
        return 2
    try:
        if args.action == "show":
            item = reviews.get(args.item)
            if item is None:
                raise ReviewError(f"review item {args.item} does not exist")
            print(line(item))
            print(json.dumps({"payload": item.payload, "candidates": item.candidates, "resolution": item.resolution},
                             ensure_ascii=False, indent=2, default=str))
        elif args.action == "resolve":
            item = reviews.resolve(args.item, parse_resolution(args.resolution), by=args.by)
            print(f"resolved {item.kind} item {item.id}; the rules apply it with the next worker pass")
        else:
            item = reviews.dismiss(args.item, by=args.by, note=args.note)
            print(f"dismissed {item.kind} item {item.id}")
    except (ReviewError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


register_command("review", "Items waiting for an admin (unmatched payments, forms): list, show, resolve, dismiss",
                 add_arguments, run)

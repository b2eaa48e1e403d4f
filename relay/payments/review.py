"""Payment items of the review list: how they read, and whether a chosen deal can be applied.

Resolving an item queues `payment.resolved`; the `match_payment` rule applies it like an automatic
match. A deal that does not exist would only fail there, after the item is closed, so every screen
that resolves (the CLI, the admin page) asks `check_resolution` first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relay.errors import PermanentError, TransientError
from relay.payments.directory import directory
from relay.reviews import Review

if TYPE_CHECKING:
    from relay.runtime import Runtime

KIND = "payment"


def review_payload(op: dict[str, Any]) -> dict[str, Any]:
    """What a payment item keeps of its operation (screens show it; the resolved rule reads `operation`)."""
    cp = op.get("counterparty") or {}
    return {"operation": op["key"], "operation_id": op["id"], "direction": op["direction"], "amount": op["amount"],
            "currency": op.get("currency") or "RUB", "posted_on": op["posted_on"], "payer": cp.get("name") or "",
            "inn": cp.get("inn") or "", "purpose": op.get("purpose") or "",
            "invoices": (op.get("purpose_fields") or {}).get("invoices") or [], "resolve_key": "deal"}


def subject_of(op: dict[str, Any]) -> str:
    return f"bank:operation:{op['id']}"


def check_resolution(runtime: "Runtime", item: Review, resolution: dict[str, Any]) -> str | None:
    """None when the resolution can be applied, else what is wrong with it."""
    deal = str(resolution.get("deal") or "").strip()
    if not deal:
        return "choose a deal: a payment is resolved with deal=<id>"
    if not deal.isdigit():
        return f"{deal!r} is not a deal id (digits only)"
    if any(str(c.get("id")) == deal for c in item.candidates):
        return None
    try:
        deals = directory(runtime)
        if deals is not None and deals.deal(deal) is None:
            return f"deal {deal} does not exist in the CRM"
    except (PermanentError, TransientError) as exc:  # a wrong mapping, an unreachable portal: say so, decide later
        return f"deal {deal} could not be checked: {exc}"
    return None


def describe(item: Review) -> list[str]:
    """A payment item for a terminal: amount, date, payer, why, purpose, candidates."""
    p = item.payload
    payer = str(p.get("payer") or "—") + (f" (ИНН {p['inn']})" if p.get("inn") else "")
    lines = [f"#{item.id:<5} {p.get('posted_on', '?')}  {p.get('amount', '?')} {p.get('currency', 'RUB')}  {payer}  [{item.status}]",
             f"       why: {item.reason}",
             f"       purpose: {p.get('purpose') or '—'}"]
    if item.candidates:
        lines.append("       candidates: " + "; ".join(str(c.get("label") or c.get("id")) for c in item.candidates))
    if item.resolution:
        lines.append(f"       decided by {item.resolved_by}: {item.resolution}")
    return lines

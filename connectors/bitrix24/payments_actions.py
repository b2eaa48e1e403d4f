"""`match_payment`: a bank operation finds its Bitrix24 deal, or waits in the review list.

Bitrix24 look-ups are `payments.Bitrix24Deals`', the decision is `relay.payments.matching.decide`,
the operation↔deal link and the sums are `relay.payments.ledger`'s, the writes `payments_write`'s.
The same action applies an admin's decision (`deal:` given, from a `payment.resolved` review event)
exactly as an automatic match.
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from typing import Any

from pydantic import Field

from connectors.bitrix24.payments import Bitrix24Deals, PaymentFields, fields_of
from connectors.bitrix24.payments_write import target_stage, write_deal, write_item
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError
from relay.payments.ledger import Booked, Ledger
from relay.payments.matching import Candidate, Decision, Payment, decide, payment_status
from relay.payments.money import rub, to_kopecks
from relay.payments.review import KIND, review_payload, subject_of
from relay.registry import action
from relay.templating import TemplateStr

FINTABLO_DEAL_LINK = "fintablo.deal"  # docs/fintablo.md: fintablo_deal keyed `bitrix24:deal:<id>`


class MatchPaymentParams(Params):
    mapping: MappingName = Field(description="the payments mapping: `values` say where invoices, INNs and amounts live; `fields` (templates over `deal`, `payment`, `operation`) and `stages` (payment status → stage) what a matched deal gets")
    operation: TemplateStr = Field("{{ operation.key }}", description="the bank operation's key; in a review rule `{{ review.item.operation }}`")
    deal: TemplateStr = Field("", description="a deal already decided, e.g. `{{ review.resolution.deal }}`: no search, no review")
    article: TemplateStr = Field("", description="the finance report's article for this payment (e.g. `{{ review.resolution.article | default('') }}`)")
    comment: TemplateStr = Field("", description="the finance report's comment for this payment")
    review: bool = Field(True, description="open a review item when the payment matches no deal, or several")


def _real_inn(inn: str) -> bool:
    return inn.isdigit() and len(inn) in (10, 12) and set(inn) != {"0"}


@action("match_payment", MatchPaymentParams)
def match_payment(ctx: ActionContext, p: MatchPaymentParams) -> None:
    """Match a bank operation to its Bitrix24 deal (invoice number in the purpose, then the payer's INN and the amount due) and write the deal's paid sum, status and stage; unsure → the review list. Idempotent: sums come from the stored operation↔deal links."""
    fields = fields_of(p.mapping, ctx.mapping(p.mapping))
    deals = Bitrix24Deals(ctx.connector("bitrix24"), fields)
    ledger = Ledger(ctx.runtime.store, ctx.runtime.links)
    key = str(ctx.render(p.operation)).strip()
    op = ledger.operation(key)
    if op is None and ctx.dry_run and isinstance(ctx.context.get("operation"), dict):
        op = {"id": 0, "currency": "RUB", "posted_on": date.today().isoformat(), **ctx.context["operation"]}  # a rule test's payment
    if op is None or not {"key", "direction", "amount_kopecks", "counterparty"} <= set(op):
        raise PermanentError(f"match_payment: no bank operation {key!r} is stored (`operation` rendered it from the rule's context)")
    notes = {"article": str(ctx.render(p.article)).strip(), "comment": str(ctx.render(p.comment)).strip()}
    chosen = str(ctx.render(p.deal)).strip() if p.deal else ""
    if chosen:
        row = deals.read(chosen) if chosen.isdigit() else None
        if row is None:
            raise PermanentError(f"match_payment: deal {chosen!r} (chosen for operation {op['id']}) does not exist in Bitrix24")
        by = str((ctx.context.get("review") or {}).get("resolved_by") or "rule")
        apply(ctx, deals, ledger, op, str(row["ID"]), {"how": "chosen", "by": by, **notes}, p.mapping)
        return
    linked = ledger.deal_of(key)
    if linked:
        ctx.trace("payment", f"operation {op['id']} is linked to deal {linked} already; refreshing its sums")
        apply(ctx, deals, ledger, op, linked, {}, p.mapping)
        return
    if op["direction"] != "C":
        ctx.trace("skip", f"operation {op['id']} is outgoing: it is linked to a deal only when one is given (`deal:`)")
        return
    inn = str(op["counterparty"].get("inn") or "")
    if inn and inn in fields.ignore_inns:
        ctx.trace("skip", f"payer ИНН {inn} is in ignore_inns (e.g. an acquiring settlement); not matched")
        return
    decision = _decide(deals, ledger, op, fields)
    for note in deals.notes:
        ctx.trace("payment", note)
    if decision.outcome == "match" and decision.candidate is not None:
        ctx.trace("payment", f"operation {op['id']} → deal {decision.candidate.id}: {decision.reason}")
        apply(ctx, deals, ledger, op, decision.candidate.id,
              {"how": decision.how, "invoice_id": decision.candidate.invoice_id, "by": "relay", **notes}, p.mapping)
    elif p.review:
        _review(ctx, op, decision)
    else:
        ctx.trace("payment", f"operation {op['id']} not matched: {decision.reason}")


def _decide(deals: Bitrix24Deals, ledger: Ledger, op: dict[str, Any], fields: PaymentFields) -> Decision:
    purpose = op.get("purpose_fields") or {}
    numbers = tuple(purpose.get("invoices") or ([purpose["invoice"]] if purpose.get("invoice") else []))
    inn = str(op["counterparty"].get("inn") or "")
    hits = deals.by_invoice(numbers)
    rows = {d: row for d in dict.fromkeys(h[0] for h in hits) if (row := deals.read(d)) is not None}
    # The payer's clients are asked for only when the invoice alone does not decide.
    ask = _real_inn(inn) and len(rows) != 1
    companies, contacts = deals.clients(inn) if ask else (set(), set())

    def candidate(row: dict[str, Any], via: str, invoice_id: str = "") -> Candidate:
        facts = deals.facts(row)
        client = {str(row.get("COMPANY_ID") or "")} & companies or {str(row.get("CONTACT_ID") or "")} & contacts
        return Candidate(facts.id, facts.title, facts.amount_kopecks, ledger.paid(facts.id)[0], via, invoice_id,
                         bool(client) if (companies or contacts) else None, facts.closed)

    by_invoice = [candidate(rows[d], f"invoice {n}", i) for d, i, n in hits if d in rows]
    by_inn = [candidate(r, f"ИНН {inn}") for r in deals.open_deals(companies, contacts)] if companies or contacts else None
    payment = Payment(op["amount_kopecks"], inn, str(op["counterparty"].get("name") or ""), numbers, op.get("currency") or "RUB")
    return decide(payment, by_invoice, by_inn, fields.tolerance_kopecks)


def _review(ctx: ActionContext, op: dict[str, Any], decision: Decision) -> None:
    payload = review_payload(op)
    candidates = [c.as_dict() for c in decision.candidates]
    if ctx.dry_run:
        ctx.effect(lambda: None, describe={"review": decision.reason, "candidates": [c["id"] for c in candidates]})
        return
    item = ctx.runtime.reviews.open(KIND, subject_of(op), decision.reason, payload, candidates)
    ctx.trace("review", f"operation {op['id']} waits for review (item {item.id}, {item.status}): {decision.reason}",
              review_id=item.id, candidates=[c["id"] for c in candidates])


def apply(ctx: ActionContext, deals: Bitrix24Deals, ledger: Ledger, op: dict[str, Any], deal_id: str,
          link_data: dict[str, Any], mapping: str) -> None:
    """Link the operation to the deal (once) and write the deal what all its linked payments add up to."""
    moved_from = None
    with ledger.deal_lock(deal_id) if not ctx.dry_run else nullcontext():
        if not ctx.dry_run:
            data = {**link_data, "direction": op["direction"], "amount_kopecks": op["amount_kopecks"], "event": ctx.event.id}
            moved_from = ledger.link(op["key"], deal_id, data) if link_data else None
        payment = _refresh(ctx, deals, ledger, deal_id, mapping, op)
    if moved_from:  # an admin moved the payment: the deal it left is paid less now
        ctx.trace("payment", f"operation {op['id']} moved from deal {moved_from} to deal {deal_id}")
        with ledger.deal_lock(moved_from):
            _refresh(ctx, deals, ledger, moved_from, mapping, op)
    if not ctx.dry_run and ctx.runtime.reviews.settle(KIND, subject_of(op), {"deal": deal_id, "how": link_data.get("how", "")}):
        ctx.trace("review", f"the open review item of operation {op['id']} is settled: matched to deal {deal_id}")
    ctx.context["payment"] = payment
    ctx.context.setdefault("operation", op)


def _refresh(ctx: ActionContext, deals: Bitrix24Deals, ledger: Ledger, deal_id: str, mapping: str,
             op: dict[str, Any]) -> dict[str, Any]:
    deal = deals.read(deal_id)
    if deal is None:
        raise PermanentError(f"deal {deal_id} (linked to operation {op['id']}) no longer exists in Bitrix24")
    fields = deals.fields
    booked = ledger.booked([deal_id])
    if ctx.dry_run and op["direction"] == "C" and all(b.key != op["key"] for b in booked):
        booked = [*booked, _pretend(op, deal_id)]
    incoming = [b for b in booked if b.direction == "C"]
    paid, expenses = sum(b.amount_kopecks for b in incoming), sum(b.amount_kopecks for b in booked if b.direction == "D")
    amount = to_kopecks(deal.get(fields.amount_field))
    status = payment_status(amount, paid, fields.tolerance_kopecks)
    invoice_id = next((b.invoice_id for b in booked if b.key == op["key"]), "")
    payment = {"deal_id": deal_id, "deal_title": deal.get("TITLE", ""), "operation": op["key"], "invoice_id": invoice_id,
               "amount": rub(amount), "amount_kopecks": amount, "paid": rub(paid), "paid_kopecks": paid,
               "remaining": rub(max(amount - paid, 0)), "remaining_kopecks": max(amount - paid, 0),
               "expenses": rub(expenses), "expenses_kopecks": expenses, "payments": len(incoming),
               "last_paid_on": max((b.posted_on.isoformat() for b in incoming), default=""), "status": status,
               "status_name": fields.status_names.get(status, status),
               "fintablo_deal_id": ctx.runtime.links.get(FINTABLO_DEAL_LINK, f"bitrix24:deal:{deal_id}") or ""}
    loaded = ctx.mapping(mapping)
    extra = {"deal": deal, "payment": payment, "operation": ctx.context.get("operation") or op, "values": loaded.values}
    wanted = {name: ctx.render(template, **extra) for name, template in loaded.fields.items()}
    stage = target_stage(ctx, deals.b24, loaded.stages, status, deal) if status != "unpaid" else None
    if stage:
        wanted["STAGE_ID"] = stage
    ctx.trace("payment", f"deal {deal_id}: paid {rub(paid)} of {rub(amount)} in {len(incoming)} payment(s): {status}",
              deal=deal_id, paid=rub(paid), amount=rub(amount), status=status)
    write_deal(ctx, deals.b24, deal, wanted)
    if invoice_id and fields.invoice_stages:
        _invoice(ctx, deals, ledger, deal_id, invoice_id)
    return payment


def _invoice(ctx: ActionContext, deals: Bitrix24Deals, ledger: Ledger, deal_id: str, invoice_id: str) -> None:
    """An invoice matched by its number follows its own payments: partial, paid, overpaid."""
    item = deals.invoice(invoice_id)
    if item is None:
        ctx.trace("skip", f"invoice {invoice_id} no longer exists")
        return
    paid = sum(b.amount_kopecks for b in ledger.booked([deal_id]) if b.direction == "C" and b.invoice_id == invoice_id)
    status = payment_status(to_kopecks(item.get("opportunity")), paid, deals.fields.tolerance_kopecks)
    stage = deals.fields.invoice_stages.get(status)
    if stage and stage != item.get("stageId"):
        write_item(ctx, deals.b24, deals.fields.invoice_entity_type_id, item, {"stageId": stage})


def _pretend(op: dict[str, Any], deal_id: str) -> Booked:
    """A dry run shows the sums as if this payment were linked (nothing is stored)."""
    return Booked(op["key"], op["id"], deal_id, op["direction"], op["amount_kopecks"], date.fromisoformat(op["posted_on"]),
                  "", "", "")

"""S28 "Paid means paid": an outgoing bank payment that matches an approved request marks it Paid.

A payment matches a request in stage Approved when the amounts are equal and the counterparty's INN
or account is the request's; if the purpose names a request ("по заявке № 12") it must be that one.
One match: the request moves to Paid with the payment written on it and a timeline comment, the
operation is linked to it (`links`, kind `payment_request`), and a `request.paid` event is queued
for the rules that tell the contractor. Several matches, or a purpose naming another request: the
review list decides (`app.py review resolve <id> request=<number>`). No match: a note in the trace
(most outgoing payments — rent, taxes, salaries — have no request).
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.bitrix24.payment_requests_connector import SOURCE, paid_event
from connectors.bitrix24.payment_requests_portal import RequestsPortal, setup_of
from connectors.bitrix24.payment_requests_setup import Setup, money_text, request_numbers, request_view
from relay.actions.context import ActionContext, PlannedWrite
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError
from relay.registry import action
from relay.ru_requisites import check_inn, clean

LINK = "payment_request"            # operation key → request id
REQUEST_LINK = "payment_request.operation"  # "<entityTypeId>:<request id>" → operation key
REVIEW = "payment_request"
PAID_COMMENT = "Оплачено: {{ payment }}. Назначение: {{ operation.purpose }}"


class PayParams(Params):
    mapping: MappingName = Field("payment_requests", description="the mapping that describes the smart process")


def operation_text(operation: dict[str, Any]) -> str:
    """`п/п № 315 от 03.03.2025, 48 500,75 ₽` — what the request's payment field shows."""
    posted = str(operation.get("posted_on") or "")
    day = ".".join(reversed(posted.split("-"))) if posted else "?"
    amount = money_text(int(operation.get("amount_kopecks") or 0), str(operation.get("currency") or "RUB"))
    return f"п/п № {operation.get('document_number') or '—'} от {day}, {amount}"


def _candidates(portal: RequestsPortal, setup: Setup, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Approved requests with the payment's amount and the counterparty's INN or account."""
    party = operation.get("counterparty") or {}
    inn, account = clean(party.get("inn")), clean(party.get("account"))
    inn = inn if check_inn(inn) is None else ""  # "0" and budget payers identify nobody
    amount = int(operation.get("amount_kopecks") or 0)
    found = []
    for item in portal.in_stage(setup.stages.approved):
        view = request_view(item, setup)
        if view["amount_kopecks"] == amount and ((inn and view["inn"] == inn) or (account and view["account"] == account)):
            found.append(item)
    return found


def _match(ctx: ActionContext, portal: RequestsPortal, setup: Setup, operation: dict[str, Any]) -> dict[str, Any] | None:
    """The one request this payment settles, or None (no match; or several, sent to the review list)."""
    key = str(operation.get("key") or "")
    linked = ctx.runtime.links.get(LINK, key)
    if linked:  # seen before (a replay, another route): the same request, whatever its stage now
        ctx.trace("payment-request", f"operation already settled request {linked}")
        return portal.read(linked)
    fits = _candidates(portal, setup, operation)
    named = request_numbers(str(operation.get("purpose") or ""), setup)
    chosen = [i for i in fits if int(i["id"]) in named] if named else fits
    if len(chosen) == 1:
        return chosen[0]
    if not fits:
        ctx.trace("payment-request", f"no approved request for {operation_text(operation)} to "
                                     f"{(operation.get('counterparty') or {}).get('name', '?')}")
        return None
    reason = (f"the purpose names request {', '.join(map(str, named))}, but the approved requests with this amount and "
              f"counterparty are {', '.join(str(i['id']) for i in fits)}") if named and not chosen else \
        f"{len(chosen)} approved requests fit this payment"
    candidates = [{"id": int(v["id"]), "label": f"№{v['id']} {v['contractor']} {v['amount_text']}", "title": v["title"],
                   "pay_by": v["pay_by"]} for v in (request_view(i, setup) for i in fits)]
    if ctx.dry_run:
        ctx.plan.append(PlannedWrite(ctx.rule.id, ctx.action, "", "review", {"open": REVIEW, "reason": reason}))
        return None
    review = ctx.runtime.reviews.open(REVIEW, key, reason, {"operation": operation}, candidates)
    ctx.trace("review", f"payment needs a person: {reason} (review item {review.id}; resolve with request=<number>)",
              review=review.id)
    return None


def _chosen(portal: RequestsPortal, setup: Setup, review: dict[str, Any]) -> dict[str, Any]:
    """The request an admin picked in the review list; a wrong pick is refused with the reason."""
    number = str((review.get("resolution") or {}).get("request") or "").strip()
    if not number.isdigit():
        raise PermanentError(f"review item {review.get('review_id')}: resolve it with request=<number>, got {review.get('resolution')!r}")
    item = portal.read(number)
    if item is None:
        raise PermanentError(f"review item {review.get('review_id')}: request {number} does not exist")
    if str(item.get("stageId")) not in (setup.stages.approved, setup.stages.paid):
        raise PermanentError(f"review item {review.get('review_id')}: request {number} is not approved (stage {item.get('stageId')})")
    return item


@action("payment_request_pay", PayParams)
def payment_request_pay(ctx: ActionContext, p: PayParams) -> None:
    """On an outgoing bank payment (or a resolved `payment_request` review item): mark the matching approved
    request Paid, write the payment on it, link the operation, and queue `request.paid` once per request and payment."""
    setup = setup_of(ctx, p.mapping)
    portal = RequestsPortal(ctx.connector("bitrix24"), setup)
    review = ctx.context.get("review")
    if review is not None:
        operation = dict((review.get("item") or {}).get("operation") or {})
        item = _chosen(portal, setup, review)
    else:
        operation = dict(ctx.context.get("operation") or {})
        if operation.get("direction") != "D":
            ctx.trace("skip", "not an outgoing payment")
            return
        item = _match(ctx, portal, setup, operation)
    if item is not None:
        _settle(ctx, portal, setup, item, operation)


def _settle(ctx: ActionContext, portal: RequestsPortal, setup: Setup, item: dict[str, Any], operation: dict[str, Any]) -> None:
    item_id, key = item["id"], str(operation.get("key") or "")
    payment = operation_text(operation)
    fields: dict[str, Any] = {"stageId": setup.stages.paid}
    if setup.fields.payment:
        fields[setup.fields.payment] = payment
    comment = ctx.render(setup.templates.get("paid_comment", PAID_COMMENT), payment=payment, operation=operation,
                         request=request_view(item, setup)).strip()

    def already_paid() -> str | None:
        fresh = portal.read(item_id)
        return str(item_id) if fresh is not None and fresh.get("stageId") == setup.stages.paid else None

    if item.get("stageId") == setup.stages.paid:
        ctx.trace("payment-request", f"request {item_id} is Paid already")
    else:
        ctx.effect(lambda: portal.write(item_id, fields, comment), already_paid, suffix=f"request-{item_id}",
                   target=portal.key(item_id), describe={"request": item_id, "fields": fields, "comment": comment})
        item = {**item, **fields}
    request = request_view(item, setup)

    def record() -> str:
        """Link the two, close the payment's review item, queue `request.paid` (each step idempotent)."""
        ctx.runtime.links.set(LINK, key, str(item_id), {"entity_type_id": setup.entity_type_id, "payment": payment})
        ctx.runtime.links.set(REQUEST_LINK, f"{setup.entity_type_id}:{item_id}", key)
        if ctx.runtime.reviews.settle(REVIEW, key, {"request": int(item_id)}):
            ctx.trace("review", f"the open review item of this payment is settled: request {item_id}")
        stored, _ = ctx.runtime.inbox.add(SOURCE, [paid_event(request, operation, payment)])
        ctx.trace("payment-request", f"request {item_id} paid by {payment}" + ("; request.paid queued" if stored else ""))
        return str(item_id)

    ctx.effect(record, suffix=f"link-{item_id}", target=f"links:{LINK}", describe={"link": key, "request": item_id})

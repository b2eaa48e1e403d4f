"""Payment requests on a Bitrix24 smart process (S26, S27): the gate out of Draft and bank details by INN.

Importing this module registers the actions `payment_request_check`, `payment_request_autofill`,
`payment_request_pay` (S28, payment_requests_paid.py) and `payment_request_email`, and the connector
`payment_requests` (the daily registry and the "request paid" events). See docs/payment-requests.md.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.bitrix24 import payment_requests_email, payment_requests_paid  # noqa: F401  (register their actions)
from connectors.bitrix24.payment_requests_connector import register
from connectors.bitrix24.payment_requests_portal import RequestsPortal, event_request, setup_of
from connectors.bitrix24.payment_requests_setup import Setup, is_empty, missing_fields, request_view, requisite_problems
from relay.actions.context import ActionContext, Halt
from relay.actions.params import MappingName, Params
from relay.registry import action
from relay.ru_requisites import check_inn, clean

register()

GATE_COMMENT = ("Заявка возвращена в «Черновик»: её нельзя передать дальше, пока не исправлено:\n"
                "{% if missing %}— не заполнены поля: {{ missing | join(', ') }}\n{% endif %}"
                "{% for problem in problems %}— {{ problem }}\n{% endfor %}")
AUTOFILL_COMMENT = "Реквизиты заполнены из заявки № {{ source.id }} ({{ source.contractor }}): {{ filled | join(', ') }}."
ROLE_NAMES = {"contractor": "Подрядчик", "kpp": "КПП", "bik": "БИК", "account": "Р/с", "corr_account": "К/с",
              "telegram_chat": "Telegram-чат", "email": "E-mail", "purpose": "Назначение платежа"}
BANK_ROLES = ("bik", "account", "corr_account")


def leaving_draft(ctx: ActionContext, item: dict[str, Any], setup: Setup) -> bool:
    """The request moved out of Draft (to anything but Rejected), or the relay first sees it waiting for
    approval or payment. Paid and rejected requests seen for the first time are history, not checked."""
    change = ctx.context.get("change")
    if change is None:
        return False
    stage = str(item.get("stageId") or "")
    if change.created:  # created past Draft, or first seen there: it must hold what leaving Draft needs
        return stage in (setup.stages.approval, setup.stages.approved)
    if "stageId" not in change.fields:
        return False
    old, new = change.fields["stageId"]
    return str(old) == setup.stages.draft and str(new) not in (setup.stages.draft, setup.stages.rejected)


class CheckParams(Params):
    mapping: MappingName = Field("payment_requests", description="the mapping that describes the smart process (docs/payment-requests.md)")
    notify: bool = Field(True, description="also notify the request's responsible user (im.notify.system.add)")


@action("payment_request_check", CheckParams)
def payment_request_check(ctx: ActionContext, p: CheckParams) -> Halt | None:
    """The gate out of Draft: a request leaving Draft with an empty required field or a bad INN, KPP, BIK or
    account goes back to Draft with one timeline comment naming every problem; later rules of the event do not run."""
    setup = setup_of(ctx, p.mapping)
    item = event_request(ctx, setup)
    if item is None or not leaving_draft(ctx, item, setup):
        return None
    missing = missing_fields(item, setup)
    problems = requisite_problems(item, setup)
    item_id = item["id"]
    if not missing and not problems:
        ctx.trace("payment-request", f"request {item_id}: required fields filled, requisites valid")
        return None
    text = ctx.render(setup.templates.get("gate_comment", GATE_COMMENT), missing=missing, problems=[x.ru for x in problems],
                      request=request_view(item, setup)).strip()
    portal = RequestsPortal(ctx.connector("bitrix24"), setup)
    notify = item.get("assignedById") if p.notify else None
    ctx.effect(lambda: portal.write(item_id, {"stageId": setup.stages.draft}, text, notify), target=portal.key(item_id),
               describe={"back_to": setup.stages.draft, "comment": text})
    reasons = ([f"missing: {', '.join(missing)}"] if missing else []) + [x.en for x in problems]
    return Halt(f"request {item_id} back to Draft: {'; '.join(reasons)}")


class AutofillParams(Params):
    mapping: MappingName = Field("payment_requests", description="the mapping that describes the smart process")


def _fill(item: dict[str, Any], source: dict[str, Any], setup: Setup) -> dict[str, Any]:
    """The empty fields `source` can fill. The bank's fields go together or not at all: an account
    copied under a BIK the user typed differently would be someone else's account."""
    fill = {}
    for role in setup.autofill:
        code = setup.code(role)
        if code and is_empty(item.get(code)) and not is_empty(source.get(code)):
            fill[code] = source[code]
    bank_codes = {setup.code(r) for r in BANK_ROLES if setup.code(r)}
    typed = {code: clean(item.get(code)) for code in bank_codes if not is_empty(item.get(code))}
    if any(clean(source.get(code)) != value for code, value in typed.items()):
        fill = {code: value for code, value in fill.items() if code not in bank_codes}
    return fill


@action("payment_request_autofill", AutofillParams)
def payment_request_autofill(ctx: ActionContext, p: AutofillParams) -> None:
    """Fill a new request's empty bank details (and contractor, contacts) from the contractor's latest approved
    or paid request with the same INN. Never overwrites a value the user typed."""
    setup = setup_of(ctx, p.mapping)
    item = event_request(ctx, setup)
    change = ctx.context.get("change")
    if item is None or change is None or not (change.created or change.changed(setup.fields.inn)):
        return
    if str(item.get("stageId")) in (setup.stages.paid, setup.stages.rejected):
        return  # history: a paid request keeps what it was paid with
    inn = clean(item.get(setup.fields.inn))
    if not inn or check_inn(inn) is not None:
        ctx.trace("skip", f"request {item['id']}: no valid INN to look up earlier requests by")
        return
    if not any(setup.code(r) and is_empty(item.get(setup.code(r))) for r in BANK_ROLES):
        return
    portal = RequestsPortal(ctx.connector("bitrix24"), setup)
    source = portal.latest_with_inn(inn, item["id"])
    if source is None:
        ctx.trace("payment-request", f"request {item['id']}: no earlier approved or paid request with INN {inn}")
        return
    fill = _fill(item, source, setup)
    if not fill:
        ctx.trace("payment-request", f"request {item['id']}: request {source.get('id')} has nothing to add")
        return
    labels = [setup.required.get(code) or ROLE_NAMES.get(role, code) for role in setup.autofill
              if (code := setup.code(role)) in fill]
    text = ctx.render(setup.templates.get("autofill_comment", AUTOFILL_COMMENT), source=request_view(source, setup),
                      filled=labels, request=request_view(item, setup)).strip()
    ctx.effect(lambda: portal.write(item["id"], fill, text), target=portal.key(item["id"]),
               describe={"fill": fill, "from": source.get("id"), "comment": text})
    item.update(fill)  # the gate later in this event checks the request as it now is

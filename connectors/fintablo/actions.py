"""Fintablo actions: a bank operation becomes a transaction, a CRM deal becomes a deal — once.

Idempotency has two layers. The Fintablo id is kept in `relay.links` (kind `fintablo.transaction`
keyed by the operation, `fintablo.deal` keyed by the admin's deal key), so any later event or replay
finds the object and updates it instead of creating a second one. The creation itself goes through
`ctx.effect`, whose `find_existing` looks the object up in Fintablo after a crash between the write
and its record.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import Field

from connectors.fintablo.connector import FintabloConnector, changes
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

TRANSACTION_LINK, DEAL_LINK = "fintablo.transaction", "fintablo.deal"


def _partner(ctx: ActionContext, ft: FintabloConnector, inn: str, name: str) -> int | None:
    """The partner with this INN (or exact name), created once if Fintablo has none."""
    if not inn.strip("0") and not name:
        return None
    found = ft.find_partner(inn, name)
    if found is None and ft.settings.create_partners:
        outcome = ctx.effect(lambda: ft.create_partner(inn, name), lambda: ft.find_partner(inn, name), suffix="partner",
                             target=f"fintablo:partner:{inn or name}", describe={"create": "partner", "inn": inn, "name": name})
        found = outcome.external_id
        if outcome.fresh:
            ctx.trace("fintablo", f"created partner {found} for {name} (ИНН {inn or '-'})", partner=found)
    return int(found) if found else None


def _sync(ctx: ActionContext, ft: FintabloConnector, path: str, item_id: str, wanted: dict[str, Any], update: bool) -> None:
    """The object exists already: bring the fields the relay manages up to date (a PUT of the same
    values is harmless, so repeating this is safe); never create a second one."""
    if not update:
        ctx.trace("fintablo", f"{path} {item_id} exists already; update_existing is off")
        return
    current = ft.client.get(path, item_id)
    if current is None:
        ctx.trace("fintablo", f"{path} {item_id} was deleted in Fintablo; it is not created again")
        return
    diff = changes(current, wanted)
    if not diff:
        ctx.trace("fintablo", f"{path} {item_id} is up to date")
        return
    if ctx.dry_run:
        ctx.effect(lambda: None, describe={"update": f"{path} {item_id}", "fields": diff})
        return
    ft.client.update(path, item_id, diff)
    ctx.trace("fintablo", f"{path} {item_id} updated: {', '.join(sorted(diff))}", changes=diff)


def _create_once(ctx: ActionContext, link: str, key: str, create: Callable[[], str],
                 find: Callable[[], str | None], describe: dict[str, Any]) -> str | None:
    outcome = ctx.effect(create, find, target=f"{link}:{key}"[:255], describe=describe)
    if outcome.external_id and not ctx.dry_run:
        ctx.runtime.links.set(link, key, outcome.external_id, {"event": ctx.event.id, "rule": ctx.rule.id})
        if outcome.fresh or outcome.how == "found":
            ctx.trace("fintablo", f"{describe.get('create')} {outcome.external_id} {outcome.how} for {key}")
    return outcome.external_id


class TransactionParams(Params):
    deal_id: TemplateStr = Field("", description="Fintablo deal (or deal stage) id the payment belongs to, a template; empty: none")
    category_id: int | None = Field(None, description="category id for every operation this rule handles (instead of connectors.fintablo.categories)")
    direction_id: int | None = Field(None, description="direction id for every operation this rule handles (instead of connectors.fintablo.directions)")
    description: TemplateStr = Field("{{ operation.purpose }}", description="the transaction's description")
    update_existing: bool = Field(True, description="when the operation already has its transaction, bring it up to date; false leaves edits made in Fintablo alone")


@action("fintablo_transaction", TransactionParams)
def fintablo_transaction(ctx: ActionContext, p: TransactionParams) -> None:
    """Record a bank operation in Fintablo (income, outcome, or a transfer between our own accounts) with its moneybag, category, direction and partner — one transaction per operation, ever; later events and replays update it."""
    ft: FintabloConnector = ctx.connector("fintablo")
    op = ctx.context.get("operation") or ctx.event.payload
    if not isinstance(op, dict) or not op.get("key") or not op.get("amount_kopecks"):
        raise PermanentError("fintablo_transaction handles bank operations: use it in a rule with `when.source: bank`")
    body = ft.transaction_body(op, str(ctx.render(p.description)), p.category_id, p.direction_id, str(ctx.render(p.deal_id)).strip())
    if body["group"] != "transfer":
        counterparty = op.get("counterparty") or {}
        partner = _partner(ctx, ft, str(counterparty.get("inn") or ""), str(counterparty.get("name") or "").strip())
        if partner is not None:
            body["partnerId"] = partner
    key = ft.link_key(op)
    linked = ctx.runtime.links.get(TRANSACTION_LINK, key)
    if linked:
        _sync(ctx, ft, "transaction", linked, body, p.update_existing)
        return
    _create_once(ctx, TRANSACTION_LINK, key, lambda: str(ft.client.create("transaction", body)["id"]),
                 lambda: ft.find_transaction(body, lambda tid: bool(ctx.runtime.links.keys_for(TRANSACTION_LINK, tid))),
                 {"create": "transaction", **body})


class DealParams(Params):
    key: TemplateStr = Field(description="what the deal is to the relay, e.g. `bitrix24:deal:{{ deal.ID }}`: one Fintablo deal per key, ever")
    mapping: MappingName = Field(description="mapping whose `fields` give Fintablo deal fields (name, amount, nds, currency, statusId, directionId, responsibleId, comment, startDate, endDate, actDate, customCostPrice) as templates; `stages` maps `stage` to a statusId")
    stage: TemplateStr = Field("", description="value looked up in the mapping's `stages` for statusId, e.g. `{{ deal.STAGE_ID }}`")
    partner_inn: TemplateStr = Field("", description="the client's INN: the partner is found by it, or created")
    partner_name: TemplateStr = Field("", description="the client's name (for a new partner, or to find one without an INN)")
    update_existing: bool = Field(True, description="when the deal exists already, bring the mapped fields up to date")


@action("fintablo_deal", DealParams)
def fintablo_deal(ctx: ActionContext, p: DealParams) -> None:
    """Create or update a Fintablo deal from mapped fields, with its partner found by INN — one deal per key, ever."""
    ft: FintabloConnector = ctx.connector("fintablo")
    key = str(ctx.render(p.key)).strip()
    if not key:
        raise PermanentError("fintablo_deal: `key` rendered empty")
    mapping = ctx.mapping(p.mapping)
    fields = ft.deal_fields({name: ctx.render(template) for name, template in mapping.fields.items()})
    stage = str(ctx.render(p.stage)).strip() if p.stage else ""
    if stage and stage in mapping.stages:
        fields["statusId"] = int(mapping.stages[stage])
    partner = _partner(ctx, ft, str(ctx.render(p.partner_inn)).strip(), str(ctx.render(p.partner_name)).strip())
    if partner is not None:
        fields["partnerId"] = partner
    linked = ctx.runtime.links.get(DEAL_LINK, key)
    if linked:
        _sync(ctx, ft, "deal", linked, fields, p.update_existing)
        return
    if not fields.get("name"):
        raise PermanentError(f"fintablo_deal: mapping {p.mapping!r} gives the deal no `name`")
    _create_once(ctx, DEAL_LINK, key, lambda: str(ft.client.create("deal", fields)["id"]),
                 lambda: ft.find_deal(fields["name"], lambda did: bool(ctx.runtime.links.keys_for(DEAL_LINK, did))),
                 {"create": "deal", **fields})

"""Holdings (S24): companies linked to a head company through a `crm` user field.

The holding is the tree under its top company (the one without a head). Three actions keep it
consistent: a company joining a holding takes values from it (`inherit_from_head`), a change on the
top company reaches every subsidiary at any depth (`update_subsidiaries`), and the holding's open
deals are summed onto the top company (`holding_rollup`). Each reads the portal as it is now, so the
figures are right whichever event came first; writes go only where a value differs.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.bitrix24.writes import write_changes
from connectors.bitrix24.wire import link_id
from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.registry import action
from relay.templating import TemplateStr

MAX_DEPTH = 20  # deeper than any real holding; also what stops a head-company cycle


class Holding:
    """The tree of one portal's companies around a company, read on demand."""

    def __init__(self, b24: Any, head_field: str) -> None:
        self.b24, self.head_field = b24, head_field

    def top(self, company_id: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The top company of `company_id`'s holding and the chain walked (a cycle stops the walk)."""
        chain: list[str] = []
        current = self.b24.read("company", company_id)
        while current is not None and len(chain) < MAX_DEPTH:
            chain.append(str(current["ID"]))
            head = link_id(current.get(self.head_field))
            if not head or head in chain:
                return current, chain
            parent = self.b24.read("company", head)
            if parent is None:  # the head was deleted: this company is the top now
                return current, chain
            current = parent
        return current, chain

    def subsidiaries(self, top_id: str) -> list[dict[str, Any]]:
        """Every company under `top_id`, level by level (a crm field holds `CO_5` or `5`: ask for both)."""
        found: list[dict[str, Any]] = []
        seen, level = {top_id}, [top_id]
        for _ in range(MAX_DEPTH):
            if not level:
                break
            values = [v for i in level for v in (i, f"CO_{i}")]
            rows = self.b24.client.list_all("crm.company.list", {"filter": {f"@{self.head_field}": values}, "select": ["*", "UF_*"]})
            level = [str(r["ID"]) for r in rows if str(r["ID"]) not in seen]
            seen.update(level)
            found += [r for r in rows if str(r["ID"]) in level]
        return found

    def open_deals(self, company_ids: list[str]) -> list[dict[str, Any]]:
        return self.b24.client.list_all("crm.deal.list", {"filter": {"@COMPANY_ID": company_ids, "CLOSED": "N"},
                                                          "select": ["ID", "OPPORTUNITY", "CURRENCY_ID", "COMPANY_ID"]})


class HoldingParams(Params):
    head_field: str = Field("UF_CRM_HEAD_COMPANY", description="company field pointing at its head company")
    fields: dict[str, TemplateStr] = Field(min_length=1, description="field → template; see the action for the names templates see")


@action("inherit_from_head", HoldingParams)
def inherit_from_head(ctx: ActionContext, p: HoldingParams) -> None:
    """The event's company takes values from its holding (templates see `company`, `head`: its direct
    head, `holding`: the top company), e.g. the responsible manager."""
    b24 = ctx.connector("bitrix24")
    company = ctx.context["entity"]
    head_id = link_id(company.get(p.head_field))
    if not head_id:
        ctx.trace("skip", f"company {company.get('ID')} has no head company")
        return
    tree = Holding(b24, p.head_field)
    head = b24.read("company", head_id)
    top, chain = tree.top(head_id)
    if head is None or top is None or str(company["ID"]) in chain:
        ctx.trace("skip", f"company {company['ID']}: head company {head_id} is missing or the heads form a cycle ({' → '.join(chain)})")
        return
    wanted = {k: ctx.render(v, company=company, head=head, holding=top) for k, v in p.fields.items()}
    write_changes(ctx, b24, "company", str(company["ID"]), company, wanted, suffix=f"company:{company['ID']}")


@action("update_subsidiaries", HoldingParams)
def update_subsidiaries(ctx: ActionContext, p: HoldingParams) -> None:
    """Write to every company under the event's company, at any depth (templates see `company`: the
    subsidiary, `holding`: the event's company), e.g. a new responsible manager for the whole holding."""
    b24 = ctx.connector("bitrix24")
    holding = ctx.context["entity"]
    subsidiaries = Holding(b24, p.head_field).subsidiaries(str(holding["ID"]))
    ctx.trace("holding", f"company {holding['ID']} has {len(subsidiaries)} subsidiary(ies)")
    for company in subsidiaries:
        wanted = {k: ctx.render(v, company=company, holding=holding) for k, v in p.fields.items()}
        write_changes(ctx, b24, "company", str(company["ID"]), company, wanted, suffix=f"company:{company['ID']}")


@action("holding_rollup", HoldingParams)
def holding_rollup(ctx: ActionContext, p: HoldingParams) -> None:
    """Recompute the open deals of the holding(s) the event touches and write them onto the top company
    (templates see `holding`: the top company, `totals`: open_sum, open_count, companies). From a deal
    event: its company's holding, and the previous company's if the deal moved; from a company event:
    the holding it is in, and the one it left."""
    b24 = ctx.connector("bitrix24")
    tree = Holding(b24, p.head_field)
    tops: dict[str, dict[str, Any]] = {}
    for start in _starting_companies(ctx, p.head_field):
        top, _ = tree.top(start)
        if top is not None:
            tops.setdefault(str(top["ID"]), top)
    for top_id, top in sorted(tops.items()):
        members = tree.subsidiaries(top_id)
        if not members and all(not top.get(k) for k in p.fields):
            continue  # a lone company that never was a holding: nothing to show
        ids = [top_id] + [str(m["ID"]) for m in members]
        deals = tree.open_deals(ids)
        totals = {"open_sum": _plain(sum(_money(d.get("OPPORTUNITY")) for d in deals)), "open_count": len(deals), "companies": len(ids)}
        ctx.trace("holding", f"holding {top_id}: {len(ids)} companies, {len(deals)} open deals, {totals['open_sum']}")
        wanted = {k: ctx.render(v, holding=top, totals=totals) for k, v in p.fields.items()}
        write_changes(ctx, b24, "company", top_id, top, wanted, suffix=f"holding:{top_id}")


def _starting_companies(ctx: ActionContext, head_field: str) -> list[str]:
    entity_type = ctx.context.get("entity_type")
    entity = ctx.context.get("entity") or {}
    change = ctx.context.get("change")
    found: list[Any] = []
    if entity_type == "deal":
        found.append(entity.get("COMPANY_ID"))
        if change is not None and change.changed("COMPANY_ID"):
            found.append(change.fields["COMPANY_ID"][0])
        if ctx.context.get("deleted"):  # the deal is gone; its last snapshot still names the company
            found.append((ctx.runtime.snapshots.get(ctx.event.entity_key) or {}).get("COMPANY_ID"))
    elif entity_type == "company":
        found.append(entity.get("ID"))
        if change is not None and change.changed(head_field):
            found.append(change.fields[head_field][0])
    return list(dict.fromkeys(i for i in (link_id(v) for v in found) if i and i != "0"))


def _money(value: Any) -> float:
    try:
        return float(str(value or 0).split("|", 1)[0])
    except ValueError:
        return 0.0


def _plain(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 2)

"""Electronic documents on the portal (S20): a signed or rejected contract or act moves its document
item (a smart-process item) and updates the deal the item belongs to.

The item is found by a filter the rule gives (usually `xmlId` = the EDO document id, stored when the
document was sent); nothing found is said in the trace, not guessed. Statuses map to stages through
the mappings' `stages`, fields through their `fields`; only values that differ are written.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from connectors.bitrix24.source import entity_key
from connectors.bitrix24.writes import write_changes
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, MappingRef, Params
from relay.changes import canonical
from relay.registry import action
from relay.templating import TemplateStr


class DocumentItemParams(Params):
    entity_type_id: int = Field(description="the smart process holding document items (entityTypeId), e.g. 1036 «Договоры»")
    find_by: dict[str, TemplateStr] = Field(min_length=1, description="item filter, field → template, e.g. {xmlId: \"{{ document.id }}\"}")
    mapping: MappingName = Field(description="for the item: `stages` (document status → item stage), `fields` (templates over `document`, `item`)")
    deal_mapping: Annotated[str | None, MappingRef()] = Field(None, description="for the item's deal (parentId2): `stages` (status → deal stage), `fields` (templates over `document`, `item`, `deal`)")


def _found(result: Any) -> list[dict[str, Any]]:
    rows = result.get("items", []) if isinstance(result, dict) else result or []
    return [r for r in rows if isinstance(r, dict)]


@action("update_document_item", DocumentItemParams)
def update_document_item(ctx: ActionContext, p: DocumentItemParams) -> None:
    """Move an EDO document's item to the stage its status maps to and fill fields; then its deal likewise."""
    b24 = ctx.connector("bitrix24")
    document = ctx.context.get("document") or {}
    status = str(document.get("status") or "")
    flt = {k: ctx.render(v) for k, v in p.find_by.items()}
    items = _found(b24.client.call("crm.item.list", {"entityTypeId": p.entity_type_id, "filter": flt, "select": ["*"]}))
    if not items:
        ctx.trace("skip", f"no item of smart process {p.entity_type_id} matches {flt}; nothing to update for document {document.get('id')}")
        return
    if len(items) > 1:
        ctx.trace("note", f"{len(items)} items match {flt}; updating the first, {items[0].get('id')}")
    item = items[0]
    item_id = str(item["id"])
    mapping = ctx.mapping(p.mapping)
    wanted: dict[str, Any] = {k: ctx.render(v, item=item) for k, v in mapping.fields.items()}
    if status in mapping.stages:
        wanted["stageId"] = mapping.stages[status]
    changes = {k: v for k, v in wanted.items() if canonical(v) != canonical(item.get(k))}
    if changes:
        def write() -> str:
            ctx.runtime.snapshots.record_writes(entity_key("item", item_id, str(p.entity_type_id)), changes)
            b24.client.call("crm.item.update", {"entityTypeId": p.entity_type_id, "id": item_id, "fields": changes})
            return item_id
        ctx.effect(write, suffix=f"item:{item_id}", target=f"bitrix24:item:{p.entity_type_id}:{item_id}",
                   describe={"update": f"item {p.entity_type_id}/{item_id}", "fields": changes})
    else:
        ctx.trace("no-op", f"item {item_id} already shows document status {status!r}")
    deal_id = str(item.get("parentId2") or "")
    if not p.deal_mapping or deal_id in ("", "0", "None"):
        return
    deal = b24.read("deal", deal_id)
    if deal is None:
        ctx.trace("skip", f"deal {deal_id} of item {item_id} no longer exists")
        return
    deal_mapping = ctx.mapping(p.deal_mapping)
    deal_wanted: dict[str, Any] = {k: ctx.render(v, item=item, deal=deal) for k, v in deal_mapping.fields.items()}
    if status in deal_mapping.stages:
        deal_wanted["STAGE_ID"] = deal_mapping.stages[status]
    write_changes(ctx, b24, "deal", deal_id, deal, deal_wanted, suffix=f"deal:{deal_id}")

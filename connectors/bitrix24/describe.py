"""`check --live` for Bitrix24: which fields, pipelines and stages the connected portal really has.

Deal fields from crm.deal.fields (user fields included), pipelines from crm.category.list (older
portals: crm.dealcategory.list), stages from crm.status.list per pipeline; smart-process items
through crm.item.fields and the same category/status lists with their own ENTITY_IDs.
"""
from __future__ import annotations

from typing import Any

from connectors.bitrix24.client import BitrixError, Command
from relay.tooling.problems import EntityCatalog

SIMPLE = {"deal": "crm.deal.fields", "company": "crm.company.fields", "contact": "crm.contact.fields", "lead": "crm.lead.fields"}


def describe_live(client: Any, entities: set[str]) -> dict[str, EntityCatalog | None]:
    """A catalog per entity asked for; None for an entity type the portal does not have (a smart process)."""
    out: dict[str, EntityCatalog | None] = {}
    for entity in sorted(entities):
        kind, _, type_id = entity.partition(":")
        if kind in SIMPLE:
            catalog = EntityCatalog(fields=set(client.call(SIMPLE[kind]) or {}))
            if kind == "deal":
                catalog.pipelines = _pipelines(client, 2, _deal_categories(client))
            elif kind == "lead":
                catalog.pipelines = {"0": _stage_ids(client, ["STATUS"])[0]}
            out[entity] = catalog
        elif kind == "item" and type_id.isdigit():
            out[entity] = _item(client, int(type_id))
    return out


def _deal_categories(client: Any) -> list[int]:
    try:
        found = client.call("crm.category.list", {"entityTypeId": 2}) or {}
        rows = found.get("categories", []) if isinstance(found, dict) else found
        return sorted({int(c["id"]) for c in rows} | {0})
    except BitrixError:  # portals before the universal API answer only the deprecated method
        rows = client.call("crm.dealcategory.list", {}) or []
        return sorted({int(c["ID"]) for c in rows} | {0})


def _pipelines(client: Any, entity_type_id: int, categories: list[int]) -> dict[str, list[str]]:
    if entity_type_id == 2:
        entity_ids = ["DEAL_STAGE" if c == 0 else f"DEAL_STAGE_{c}" for c in categories]
    else:
        entity_ids = [f"DYNAMIC_{entity_type_id}_STAGE_{c}" for c in categories]
    return {str(c): stages for c, stages in zip(categories, _stage_ids(client, entity_ids))}


def _stage_ids(client: Any, entity_ids: list[str]) -> list[list[str]]:
    pages = client.group([Command("crm.status.list", {"filter": {"ENTITY_ID": e}}) for e in entity_ids]) if entity_ids else []
    return [[str(r.get("STATUS_ID")) for r in sorted(page or [], key=lambda r: int(r.get("SORT") or 0))] for page in pages]


def _item(client: Any, entity_type_id: int) -> EntityCatalog | None:
    try:
        found = client.call("crm.item.fields", {"entityTypeId": entity_type_id}) or {}
    except BitrixError:
        return None  # no such smart process
    described = found.get("fields", {}) if isinstance(found, dict) else {}
    fields = set(described) | {str(f.get("upperName")) for f in described.values() if isinstance(f, dict) and f.get("upperName")}
    categories = client.call("crm.category.list", {"entityTypeId": entity_type_id}) or {}
    ids = sorted(int(c["id"]) for c in (categories.get("categories", []) if isinstance(categories, dict) else categories))
    return EntityCatalog(fields=fields, pipelines=_pipelines(client, entity_type_id, ids))

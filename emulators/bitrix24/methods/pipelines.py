"""Pipelines and stages: crm.category.*, crm.status.list, crm.dealcategory.*, crm.type.*.

Stage ids carry their pipeline: "NEW" in the default deal pipeline, "C1:NEW" in pipeline 1,
"DT1030_5:NEW" in a smart process; crm.status.list lists them under ENTITY_ID DEAL_STAGE,
DEAL_STAGE_1, DYNAMIC_1030_STAGE_5. The relay maps stage names and semantics from these lists.
"""
from __future__ import annotations

from typing import Any

from ..errors import FILTER_NOT_ARRAY, NOT_FOUND, ORDER_NOT_ARRAY, RestError, crm_error, type_not_found
from ..query import build_filter, paginate, sort_records
from ..schema import FieldDef
from ..store import Category, Status, stage_entity_id, stage_prefix
from . import Call, Reply, entity_id, param, php_intval, rest
from .crm import array_param, as_map

DEFAULT_DEAL_STAGES = [("NEW", "New", "process", "#39A8EF"), ("PREPARATION", "Preparing documents", "process", "#2FC6F6"),
                       ("PREPAYMENT_INVOICE", "Invoice", "process", "#55D0E0"), ("EXECUTING", "In progress", "process", "#47E4C2"),
                       ("FINAL_INVOICE", "Final invoice", "process", "#FFA900"), ("WON", "Deal won", "success", "#7BD500"),
                       ("LOSE", "Deal lost", "failure", "#FF5752"), ("APOLOGY", "Analyze failure", "apology", "#FF5752")]
DEFAULT_DYNAMIC_STAGES = [("NEW", "Start", "process", "#22B9FF"), ("PREPARATION", "Preparation", "process", "#2FC6F6"),
                          ("CLIENT", "Awaiting client", "process", "#55D0E0"), ("SUCCESS", "Success", "success", "#7BD500"),
                          ("FAIL", "Failed", "failure", "#FF5752")]
_STATUS_FIELDS = {n: FieldDef(n, "integer" if n in ("ID", "SORT") else "string")
                  for n in ("ID", "ENTITY_ID", "STATUS_ID", "NAME", "SORT", "SYSTEM", "CATEGORY_ID", "SEMANTICS")}


def add_pipeline(portal: Any, entity_type_id: int, category_id: int, name: str, sort: int = 500,
                 stages: list[tuple[str, str, str, str | None]] | None = None, is_default: bool = False) -> Category:
    """Create a pipeline and its stages (given as (id without prefix, name, semantics, color))."""
    store = portal.store
    cat = store.add_category(Category(category_id, entity_type_id, name, sort, is_default))
    defaults = DEFAULT_DEAL_STAGES if entity_type_id == 2 else DEFAULT_DYNAMIC_STAGES
    prefix, entity = stage_prefix(entity_type_id, category_id), stage_entity_id(entity_type_id, category_id)
    for i, (sid, sname, semantics, color) in enumerate(stages or defaults):
        store.add_status(Status(store.next_serial("STATUS", 100), entity, prefix + sid, sname, (i + 1) * 10,
                                system=sid in ("NEW", "WON", "LOSE", "SUCCESS", "FAIL"),
                                category_id=category_id if (category_id or entity_type_id != 2) else None,
                                color=color, semantics=semantics))
    return cat


def status_rest(s: Status) -> dict[str, Any]:
    """A crm.status.list row; stages carry SEMANTICS (null/S/F) and EXTRA, dictionary rows do not."""
    out = {"ID": str(s.id), "ENTITY_ID": s.entity_id, "STATUS_ID": s.status_id, "NAME": s.name, "NAME_INIT": "",
           "SORT": str(s.sort), "SYSTEM": "Y" if s.system else "N", "CATEGORY_ID": None if s.category_id is None
           else str(s.category_id), "COLOR": s.color, "SEMANTICS": None}
    if s.semantics:
        out["SEMANTICS"] = {"success": "S", "failure": "F", "apology": "F"}.get(s.semantics)
        out["EXTRA"] = {"SEMANTICS": s.semantics, "COLOR": s.color}
    return out


@rest("crm.status.list")
def status_list(call: Call) -> Reply:
    flt = as_map(array_param(call.params, "filter", FILTER_NOT_ARRAY, {}))
    order = as_map(array_param(call.params, "order", ORDER_NOT_ARRAY, {})) or {"SORT": "ASC"}
    rows = [{**status_rest(s), "ID": s.id, "SORT": s.sort} for s in call.portal.store.statuses_of()]
    resolve = lambda name: (_STATUS_FIELDS[name], name) if name in _STATUS_FIELDS else None  # noqa: E731
    check = build_filter(flt, resolve, call.portal.tz)
    rows = sort_records([r for r in rows if check(r)], order, resolve)
    page = paginate(rows, call.start)
    return Reply([{**r, "ID": str(r["ID"]), "SORT": str(r["SORT"])} for r in page.rows], page.total, page.next)


@rest("crm.status.entity.items")
def status_entity_items(call: Call) -> list:
    entity = str(param(call.params, "entityId", "") or call.params.get("ENTITY_ID", ""))
    return [{"NAME": s.name, "SORT": s.sort, "STATUS_ID": s.status_id} for s in call.portal.store.statuses_of(entity)]


def category_rest(c: Category) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "sort": c.sort, "entityTypeId": c.entity_type_id,
            "isDefault": "Y" if c.is_default else "N", "originId": "", "originatorId": ""}


def _entity_type(call: Call) -> int:
    etid = php_intval(call.params.get("entityTypeId", 0))
    if etid != 2 and etid not in call.portal.store.types:
        raise type_not_found()
    return etid


@rest("crm.category.list")
def category_list(call: Call) -> Reply:
    cats = call.portal.store.categories_of(_entity_type(call))
    page = paginate([category_rest(c) for c in cats], call.start, engine=True)
    return Reply({"categories": page.rows}, page.total, page.next)


@rest("crm.category.get")
def category_get(call: Call) -> dict:
    cat = call.portal.store.category(_entity_type(call), php_intval(call.params.get("id")))
    if cat is None:
        raise RestError(400, "NOT_FOUND", "Category not found")
    return {"category": category_rest(cat)}


@rest("crm.category.add")
def category_add(call: Call) -> dict:
    etid = _entity_type(call)
    fields = as_map(call.params.get("fields") or {})
    if not fields.get("name"):
        raise RestError(400, "100", "Required fields: name")
    existing = [c.id for c in call.portal.store.categories_of(etid)]
    cat = add_pipeline(call.portal, etid, max(existing + [0]) + 1, str(fields["name"]), php_intval(fields.get("sort") or 500))
    return {"category": category_rest(cat)}


@rest("crm.dealcategory.list")
def dealcategory_list(call: Call) -> Reply:
    rows = [{"ID": str(c.id), "CREATED_DATE": "", "NAME": c.name, "IS_LOCKED": "N", "SORT": str(c.sort)}
            for c in call.portal.store.categories_of(2) if c.id != 0]
    page = paginate(rows, call.start)
    return Reply(page.rows, page.total, page.next)


def _deal_category(call: Call, allow_default: bool = True) -> Category:
    cid = php_intval(param(call.params, "id", 0))
    cat = call.portal.store.category(2, cid)
    if cat is None or (cid == 0 and not allow_default):
        raise crm_error(NOT_FOUND)
    return cat


@rest("crm.dealcategory.get")
def dealcategory_get(call: Call) -> dict:
    cat = _deal_category(call, allow_default=False)
    return {"ID": str(cat.id), "CREATED_DATE": "", "NAME": cat.name, "IS_LOCKED": "N", "SORT": str(cat.sort)}


@rest("crm.dealcategory.default.get")
def dealcategory_default(call: Call) -> dict:
    cat = call.portal.store.category(2, 0)
    return {"ID": 0, "NAME": cat.name if cat else ""}


@rest("crm.dealcategory.status")
def dealcategory_status(call: Call) -> str:
    return stage_entity_id(2, _deal_category(call).id)


@rest("crm.dealcategory.stage.list")
def dealcategory_stages(call: Call) -> list:
    return [{"NAME": s.name, "SORT": str(s.sort), "STATUS_ID": s.status_id}
            for s in call.portal.store.stages(2, _deal_category(call).id)]


def type_rest(t: Any) -> dict[str, Any]:
    return {"id": t.id, "title": t.title, "code": "", "createdBy": 1, "entityTypeId": t.entity_type_id,
            "customSectionId": None, "isCategoriesEnabled": "Y", "isStagesEnabled": "Y",
            "isClientEnabled": "Y", "isLinkWithProductsEnabled": "N", "isCrmTrackingEnabled": "N",
            "isMycompanyEnabled": "Y", "isDocumentsEnabled": "N", "isSourceEnabled": "Y",
            "isUseInUserfieldEnabled": "Y", "isObserversEnabled": "Y", "isRecyclebinEnabled": "N",
            "isAutomationEnabled": "N", "isBizProcEnabled": "N", "isSetOpenPermissions": "Y",
            "relations": {"parent": [{"entityTypeId": p} for p in t.parents],
                          "child": [{"entityTypeId": c} for c in t.children]}}


@rest("crm.type.list")
def type_list(call: Call) -> Reply:
    types = sorted(call.portal.store.types.values(), key=lambda t: t.id)
    page = paginate([type_rest(t) for t in types], call.start, engine=True)
    return Reply({"types": page.rows}, page.total, page.next)


@rest("crm.type.get")
def type_get(call: Call) -> dict:
    tid = entity_id(call.params)
    t = next((t for t in call.portal.store.types.values() if t.id == tid), None)
    if t is None:
        raise type_not_found()
    return {"type": type_rest(t)}

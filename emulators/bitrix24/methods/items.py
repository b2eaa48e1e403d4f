"""crm.item.*: the universal API (deals, contacts, companies and smart processes), camelCase and typed.

Same records as the old methods, printed differently: `{"item": {...}}`, `{"items": [...]}`, typed
values, `parentId{N}` links, Engine paging (`next` = offset + page size). Errors use real codes
(`NOT_FOUND`, HTTP 400) instead of the old empty code.
"""
from __future__ import annotations

from typing import Any

from .. import entities as ent
from .. import printing as pr
from ..entities import EntityKind
from ..errors import RestError, item_not_found, type_not_found
from ..php import as_list
from ..query import build_filter, paginate, sort_records
from .crm import as_map
from . import Call, Reply, php_intval, rest


def _kind(call: Call) -> EntityKind:
    etid = php_intval(call.params.get("entityTypeId", call.params.get("ENTITY_TYPE_ID", 0)))
    ek = ent.kind_for_type(call.portal, etid)
    if ek is None:
        raise type_not_found()
    return ek


def _original(call: Call) -> bool:
    return str(call.params.get("useOriginalUfNames", "N")).upper() == "Y"


def _resolver(defs: dict) -> Any:
    """crm.item names (camelCase), upper-case storage names and original UF names all resolve."""
    by_item = {v: k for k, v in pr.item_names(defs).items()}

    def resolve(name: str) -> Any:
        key = by_item.get(name) or (name if name in defs else None)
        return (defs[key], key) if key else None
    return resolve


def _incoming(defs: dict, fields: Any) -> dict[str, Any]:
    resolve = _resolver(defs)
    out: dict[str, Any] = {}
    for name, value in as_map(fields or {}).items():
        found = resolve(str(name))
        if found:
            out[found[1]] = value
    return out


def _id(call: Call) -> int:
    rid = php_intval(call.params.get("id", call.params.get("ID", 0)))
    if rid <= 0:
        raise RestError(400, "100", "Required parameter 'id' is missing")
    return rid


def _print(call: Call, ek: EntityKind, defs: dict, rid: int) -> dict:
    record = call.portal.store.get(ek.kind, rid)
    if record is None:
        raise item_not_found()
    return pr.print_item(call.portal, ek, defs, record, original_uf=_original(call))


@rest("crm.item.add")
def item_add(call: Call) -> dict:
    ek = _kind(call)
    defs = ent.field_defs(call.portal, ek)
    rid = ent.create(call.portal, ek, _incoming(defs, call.params.get("fields")), item_api=True)
    return {"item": _print(call, ek, defs, rid)}


@rest("crm.item.update")
def item_update(call: Call) -> dict:
    ek, rid = _kind(call), _id(call)
    defs = ent.field_defs(call.portal, ek)
    if not ent.modify(call.portal, ek, rid, _incoming(defs, call.params.get("fields")), item_api=True):
        raise item_not_found()
    return {"item": _print(call, ek, defs, rid)}


@rest("crm.item.get")
def item_get(call: Call) -> dict:
    ek = _kind(call)
    return {"item": _print(call, ek, ent.field_defs(call.portal, ek), _id(call))}


@rest("crm.item.delete")
def item_delete(call: Call) -> list:
    ek = _kind(call)
    if not ent.remove(call.portal, ek, _id(call)):
        raise item_not_found()
    return []


@rest("crm.item.list")
def item_list(call: Call) -> Reply:
    ek = _kind(call)
    defs = ent.field_defs(call.portal, ek)
    resolve = _resolver(defs)
    p = call.params
    flt = as_map(p.get("filter") or {})
    order = as_map(p.get("order") or {}) or {"ID": "ASC"}
    check = build_filter(flt if isinstance(flt, dict) else {}, resolve, call.portal.tz)
    rows = sort_records([r for r in call.portal.store.all(ek.kind) if check(r)], order, resolve)
    page = paginate(rows, call.start, engine=True)
    select = [str(s) for s in as_list(p.get("select"))] or ["*"]
    names: set[str] | None = None
    if "*" not in select:
        names = {"ID"} | {resolve(s)[1] for s in select if resolve(s)}
        if any(s.lower() in ("uf_*", "uf*") for s in select):
            names |= {n for n, f in defs.items() if f.uf}
    items = [pr.print_item(call.portal, ek, defs, r, names, _original(call)) for r in page.rows]
    return Reply({"items": items}, page.total, page.next)


@rest("crm.item.fields")
def item_fields(call: Call) -> dict:
    ek = _kind(call)
    defs = ent.field_defs(call.portal, ek)
    names = pr.item_names(defs, _original(call))
    return {"fields": {names[n]: {**f.describe(), "upperName": n} for n, f in defs.items()}}

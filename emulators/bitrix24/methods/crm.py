"""Old CRM methods: crm.deal.*, crm.company.*, crm.contact.*, crm.requisite.*, crm.requisite.bankdetail.*.

These are the "deprecated but fully working" methods most integrations (and fast-bitrix24 examples)
use. Their quirks are reproduced: string values, an empty error code with HTTP 400, parameter names
in any case (`fields`/`FIELDS`/`arFields`, `id`/`ID`), unknown fields silently ignored.
"""
from __future__ import annotations

from typing import Any

from .. import entities as ent
from .. import printing as pr
from ..entities import EntityKind
from ..errors import (FIELDS_NOT_ARRAY, FILTER_NOT_ARRAY, NOT_FOUND, ORDER_NOT_ARRAY, PARAMS_NOT_ARRAY,
                      SELECT_NOT_ARRAY, crm_error)
from ..php import as_list
from ..query import build_filter, paginate, sort_records
from . import Call, Reply, entity_id, param, php_intval, rest


def array_param(params: dict[str, Any], name: str, message: str, default: Any) -> Any:
    """A parameter that must be a PHP array (dict or list) when present."""
    value = param(params, name, default)
    if not isinstance(value, (dict, list)):
        raise crm_error(message)
    return value


def as_map(value: Any) -> dict[str, Any]:
    return {str(i): v for i, v in enumerate(value)} if isinstance(value, list) else value


def fields_param(call: Call) -> dict[str, Any]:
    fields = as_map(array_param(call.params, "fields", FIELDS_NOT_ARRAY, None))
    if param(call.params, "params") is not None:
        array_param(call.params, "params", PARAMS_NOT_ARRAY, {})
    return fields


def list_rows(call: Call, ek: EntityKind, defs: dict) -> Reply:
    """The shared body of every old crm.*.list: filter, order (default ID ASC), page, select."""
    p = call.params
    order = as_map(array_param(p, "order", ORDER_NOT_ARRAY, {})) or {"ID": "ASC"}
    flt = as_map(array_param(p, "filter", FILTER_NOT_ARRAY, {}))
    select = as_list(array_param(p, "select", SELECT_NOT_ARRAY, []))

    def resolve(name: str) -> Any:
        return (defs[name], name) if name in defs else None

    check = build_filter(flt, resolve, call.portal.tz)
    rows = sort_records([r for r in call.portal.store.all(ek.kind) if check(r)], order, resolve)
    page = paginate(rows, call.start)
    names = pr.old_select(defs, select)
    return Reply([pr.print_old(call.portal, defs, r, names) for r in page.rows], page.total, page.next)


def _check_required(call: Call, ek: EntityKind, fields: dict[str, Any]) -> None:
    """Requisites and bank details refuse to exist without their owner and name."""
    for name, f in ek.fields.items():
        if f.required and fields.get(name) in (None, ""):
            raise crm_error(f'The "{f.title}" field is required.')
    store = call.portal.store
    if ek is ent.REQUISITE:
        owner = {3: "CONTACT", 4: "COMPANY"}.get(php_intval(fields["ENTITY_TYPE_ID"]))
        if owner is None or store.get(owner, php_intval(fields["ENTITY_ID"])) is None:
            raise crm_error("Entity not found.")
    if ek is ent.BANKDETAIL and store.get("REQUISITE", php_intval(fields["ENTITY_ID"])) is None:
        raise crm_error("Requisite not found.")


def register(prefix: str, ek: EntityKind) -> None:
    """Register add/update/get/list/delete/fields for one entity under `prefix` (e.g. crm.deal)."""

    @rest(f"{prefix}.add")
    def add(call: Call) -> int:
        fields = fields_param(call)
        if ek in (ent.REQUISITE, ent.BANKDETAIL):
            _check_required(call, ek, fields)
        return ent.create(call.portal, ek, fields)

    @rest(f"{prefix}.update")
    def update(call: Call) -> bool:
        rid = entity_id(call.params)
        if call.portal.store.get(ek.kind, rid) is None:
            raise crm_error(NOT_FOUND)
        ent.modify(call.portal, ek, rid, fields_param(call))
        return True

    @rest(f"{prefix}.get")
    def get(call: Call) -> dict:
        record = call.portal.store.get(ek.kind, entity_id(call.params))
        if record is None:
            raise crm_error(NOT_FOUND)
        return pr.print_old(call.portal, ent.field_defs(call.portal, ek), record)

    @rest(f"{prefix}.list")
    def list_(call: Call) -> Reply:
        return list_rows(call, ek, ent.field_defs(call.portal, ek))

    @rest(f"{prefix}.delete")
    def delete(call: Call) -> bool:
        if not ent.remove(call.portal, ek, entity_id(call.params)):
            raise crm_error(NOT_FOUND)
        return True

    @rest(f"{prefix}.fields")
    def fields(call: Call) -> dict:
        return {n: f.describe() for n, f in ent.field_defs(call.portal, ek).items()}


register("crm.deal", ent.DEAL)
register("crm.company", ent.COMPANY)
register("crm.contact", ent.CONTACT)
register("crm.requisite", ent.REQUISITE)
register("crm.requisite.bankdetail", ent.BANKDETAIL)

_PRESETS = [(1, "Организация", "COMPANY"), (2, "ИП", "INDIVIDUAL"), (3, "Физ. лицо", "PERSON")]


@rest("crm.requisite.preset.list")
def preset_list(call: Call) -> Reply:
    rows = [{"ID": str(i), "ENTITY_TYPE_ID": "8", "COUNTRY_ID": "1", "NAME": name, "ACTIVE": "Y", "SORT": str(i * 500),
             "XML_ID": f"#CRM_REQUISITE_PRESET_DEF_RU_{code}#"} for i, name, code in _PRESETS]
    return Reply(rows, len(rows))


@rest("crm.deal.contact.items.get")
def deal_contacts_get(call: Call) -> list:
    record = call.portal.store.get("DEAL", entity_id(call.params))
    if record is None:
        raise crm_error(NOT_FOUND)
    ids = record.get("CONTACT_IDS") or []
    return [{"CONTACT_ID": cid, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
            for i, cid in enumerate(ids)]


@rest("crm.deal.contact.items.set")
def deal_contacts_set(call: Call) -> bool:
    rid = entity_id(call.params)
    if call.portal.store.get("DEAL", rid) is None:
        raise crm_error(NOT_FOUND)
    items = [i for i in as_list(param(call.params, "items", [])) if isinstance(i, dict)]
    items.sort(key=lambda i: (str(i.get("IS_PRIMARY")) != "Y", int(str(i.get("SORT") or 0) or 0)))
    ent.modify(call.portal, ent.DEAL, rid, {"CONTACT_IDS": [i.get("CONTACT_ID") for i in items]})
    return True

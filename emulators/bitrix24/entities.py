"""CRM record life cycle shared by old crm.* methods and crm.item.*: create, modify, remove, print.

Both APIs must leave a record in the same state and fire the same event, or the relay would see
different behaviour depending on which API it happened to use. So the rules live here once:
timestamps (DATE_MODIFY moves on EVERY update call), stage bookkeeping (semantics, CLOSED,
MOVED_TIME), multi-field merging, user fields, and the outgoing event.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import schema
from .php import as_list
from .schema import FieldDef
from .values import to_store

if TYPE_CHECKING:
    from .portal import Portal


@dataclass(frozen=True)
class EntityKind:
    """How one CRM entity type is stored and announced."""

    kind: str
    entity_type_id: int
    uf_entity: str | None
    event: str  # event code prefix, e.g. ONCRMDEAL; ADD/UPDATE/DELETE is appended
    fields: dict[str, FieldDef]
    created: str = "DATE_CREATE"
    modified: str = "DATE_MODIFY"
    created_by: str = "CREATED_BY_ID"
    modified_by: str = "MODIFY_BY_ID"
    moved_by: str = "MOVED_BY_ID"
    stages: bool = False

    @property
    def dynamic(self) -> bool:
        return self.kind.startswith("DYNAMIC_")


DEAL = EntityKind("DEAL", 2, "CRM_DEAL", "ONCRMDEAL", schema.DEAL, stages=True)
CONTACT = EntityKind("CONTACT", 3, "CRM_CONTACT", "ONCRMCONTACT", schema.CONTACT)
COMPANY = EntityKind("COMPANY", 4, "CRM_COMPANY", "ONCRMCOMPANY", schema.COMPANY)
REQUISITE = EntityKind("REQUISITE", 8, None, "ONCRMREQUISITE", schema.REQUISITE)
BANKDETAIL = EntityKind("BANKDETAIL", 0, None, "ONCRMBANKDETAIL", schema.BANKDETAIL)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "DEAL": {"TYPE_ID": "SALE", "CATEGORY_ID": 0, "OPPORTUNITY": 0.0, "IS_MANUAL_OPPORTUNITY": "N",
             "TAX_VALUE": 0.0, "OPENED": "Y", "CLOSED": "N", "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "N",
             "IS_REPEATED_APPROACH": "N", "CONTACT_IDS": []},
    "COMPANY": {"COMPANY_TYPE": "CUSTOMER", "OPENED": "Y", "IS_MY_COMPANY": "N", "REVENUE": 0.0},
    "CONTACT": {"TYPE_ID": "CLIENT", "OPENED": "Y", "EXPORT": "Y", "COMPANY_IDS": []},
    "REQUISITE": {"ACTIVE": "Y", "ADDRESS_ONLY": "N", "SORT": 500},
    "BANKDETAIL": {"ACTIVE": "Y", "SORT": 500},
    "DYNAMIC": {"OPENED": "Y", "OPPORTUNITY": 0.0, "IS_MANUAL_OPPORTUNITY": "N", "TAX_VALUE": 0.0,
                "OBSERVERS": [], "CONTACT_IDS": []},
}


def dynamic_kind(entity_type_id: int) -> EntityKind:
    """Smart-process items: crm.item only, stages prefixed DT{type}_{category}:."""
    return EntityKind(f"DYNAMIC_{entity_type_id}", entity_type_id, f"CRM_{entity_type_id}", "ONCRMDYNAMICITEM",
                      schema.DYNAMIC, created="CREATED_TIME", modified="UPDATED_TIME", created_by="CREATED_BY",
                      modified_by="UPDATED_BY", moved_by="MOVED_BY", stages=True)


def kind_for_type(portal: "Portal", entity_type_id: int) -> EntityKind | None:
    """entityTypeId → kind, for the entity types crm.item reaches here (2, 3, 4, smart processes)."""
    fixed = {2: DEAL, 3: CONTACT, 4: COMPANY}
    if entity_type_id in fixed:
        return fixed[entity_type_id]
    return dynamic_kind(entity_type_id) if entity_type_id in portal.store.types else None


def field_defs(portal: "Portal", ek: EntityKind) -> dict[str, FieldDef]:
    """Standard fields, parent links (PARENT_ID_{type}) and user fields, in print order."""
    defs = dict(ek.fields)
    types = portal.store.types
    own = types.get(ek.entity_type_id) if ek.dynamic else None
    parents = list(own.parents) if own else []
    parents += [t.entity_type_id for t in types.values() if ek.entity_type_id in t.children]
    for parent in parents:
        name = f"PARENT_ID_{parent}"
        defs[name] = FieldDef(name, "crm_entity", title=name, settings={"parentEntityTypeId": parent})
    if ek.uf_entity:
        for uf in portal.store.userfields_of(ek.uf_entity):
            defs[uf.field_name] = uf.field_def()
    return defs


# writing ------------------------------------------------------------------------------------------
def _merge_multi(portal: "Portal", type_id: str, existing: list[dict], incoming: Any) -> list[dict]:
    """PHONE/EMAIL/...: items with a known ID are edited (empty VALUE deletes), others are appended."""
    items = [dict(i) for i in existing or []]
    for raw in as_list(incoming):
        if not isinstance(raw, dict):
            continue
        rid, value = str(raw.get("ID") or ""), raw.get("VALUE")
        match = next((i for i in items if rid and i["ID"] == rid), None)
        if match is not None:
            if value in (None, ""):
                items.remove(match)
            else:
                match["VALUE"] = str(value)
                match["VALUE_TYPE"] = raw.get("VALUE_TYPE") or match["VALUE_TYPE"]
        elif value not in (None, ""):
            items.append({"ID": str(portal.store.next_serial("MULTIFIELD")), "VALUE_TYPE": raw.get("VALUE_TYPE") or "WORK",
                          "VALUE": str(value), "TYPE_ID": type_id})
    return items


def _convert(portal: "Portal", defs: dict[str, FieldDef], raw: dict[str, Any], existing: dict | None,
             item_api: bool, allow: set[str] = frozenset()) -> dict[str, Any]:
    """Incoming field map → stored values. Unknown, read-only and (on update) immutable fields are ignored."""
    cfg = portal.config
    out: dict[str, Any] = {}
    for name, value in raw.items():
        f = defs.get(name)
        if f is None or f.read_only or (existing is not None and f.immutable and name not in allow):
            continue
        if f.type == "crm_multifield":
            out[name] = _merge_multi(portal, name, (existing or {}).get(name, []), value)
        else:
            out[name] = to_store(f, value, portal.tz, cfg.currency, item_api)
    return out


def _stage_from_id(ek: EntityKind, stage_id: Any) -> int | None:
    """The category a prefixed stage id belongs to ("C3:NEW" → 3, "DT1030_5:NEW" → 5)."""
    m = re.match(r"^(?:C|DT\d+_)(\d+):", str(stage_id or ""))
    return int(m.group(1)) if m else (0 if ek.kind == "DEAL" and stage_id else None)


def _apply_stage(portal: "Portal", ek: EntityKind, record: dict, changes: dict, old: dict | None) -> None:
    """Keep CATEGORY_ID/STAGE_ID consistent and maintain semantics, CLOSED and MOVED_* bookkeeping."""
    store, etid = portal.store, ek.entity_type_id
    moving = old is None or ("CATEGORY_ID" in changes and changes["CATEGORY_ID"] != old.get("CATEGORY_ID"))
    if moving:
        cat = record.get("CATEGORY_ID")
        if "CATEGORY_ID" not in changes and changes.get("STAGE_ID"):
            cat = _stage_from_id(ek, changes["STAGE_ID"])
        if cat is None or store.category(etid, cat) is None:
            default = store.default_category(etid)
            cat = default.id if default else 0
        record["CATEGORY_ID"] = cat
    stages = store.stages(etid, record["CATEGORY_ID"])
    ids = [s.status_id for s in stages]
    wanted, current = changes.get("STAGE_ID"), (old or {}).get("STAGE_ID")
    if wanted in ids:
        record["STAGE_ID"] = wanted
    elif moving or current not in ids:
        record["STAGE_ID"] = ids[0] if ids else None
    else:
        record["STAGE_ID"] = current
    if old is None or record["STAGE_ID"] != current:
        record["MOVED_TIME"], record[ek.moved_by] = portal.now(), portal.config.webhook_user_id
        if ek.dynamic and old is not None:
            record["PREVIOUS_STAGE_ID"] = current
    status = next((s for s in stages if s.status_id == record["STAGE_ID"]), None)
    if ek.kind == "DEAL":
        letter = status.letter if status else "P"
        record["STAGE_SEMANTIC_ID"] = letter
        record["CLOSED"] = "Y" if letter in ("S", "F") else "N"
        record["IS_NEW"] = "Y" if ids and record["STAGE_ID"] == ids[0] else "N"


def _derive(ek: EntityKind, record: dict, changes: dict) -> None:
    """Fields computed from others: HAS_PHONE/HAS_EMAIL, CONTACT_ID ↔ CONTACT_IDS, COMPANY_ID ↔ COMPANY_IDS."""
    if "PHONE" in ek.fields:
        record["HAS_PHONE"] = "Y" if record.get("PHONE") else "N"
        record["HAS_EMAIL"] = "Y" if record.get("EMAIL") else "N"
        record["HAS_IMOL"] = "Y" if any(i.get("VALUE_TYPE") == "IMOL" for i in record.get("IM") or []) else "N"
    for single, many in (("CONTACT_ID", "CONTACT_IDS"), ("COMPANY_ID", "COMPANY_IDS")):
        if many not in ek.fields:
            continue
        if many in changes:
            record[single] = (record.get(many) or [None])[0]
        elif single in changes:
            rest = [v for v in record.get(many) or [] if v != record[single]]
            record[many] = ([record[single]] if record[single] else []) + rest


def create(portal: "Portal", ek: EntityKind, raw: dict[str, Any], *, item_api: bool = False,
           record_id: int | None = None, silent: bool = False) -> int:
    """Add a record (defaults, stage, timestamps), then announce it. Returns the new id.

    `record_id` and `silent` are for seeding: a fixed id, and no event (seed data is "already there").
    """
    defs = field_defs(portal, ek)
    changes = _convert(portal, defs, raw, None, item_api)
    now, user, today = portal.now(), portal.config.webhook_user_id, portal.now().date()
    record: dict[str, Any] = {n: (f.default if f.default is not None else [] if f.multiple else None)
                              for n, f in defs.items()}
    record.update(_DEFAULTS["DYNAMIC" if ek.dynamic else ek.kind])
    if ek.kind == "DEAL" or ek.dynamic:
        record.update({"CURRENCY_ID": portal.config.currency, "ASSIGNED_BY_ID": user, "BEGINDATE": today,
                       "CLOSEDATE": today + timedelta(days=7)})
    if ek.kind in ("COMPANY", "CONTACT"):
        record.update({"CURRENCY_ID": portal.config.currency, "ASSIGNED_BY_ID": user})
    if "LAST_ACTIVITY_TIME" in defs:
        record.update({"LAST_ACTIVITY_TIME": now, "LAST_ACTIVITY_BY": user})
    record.update({k: v for k, v in changes.items() if v is not None or record.get(k) is None})
    record.update({ek.created: now, ek.modified: now, ek.created_by: user, ek.modified_by: user})
    if ek.stages:
        _apply_stage(portal, ek, record, changes, None)
    _derive(ek, record, changes)
    with portal.store.lock:
        rid = portal.store.insert(ek.kind, record, record_id)
        if ek.kind == "DEAL" and not record.get("TITLE"):
            portal.store.update(ek.kind, rid, {"TITLE": portal.text("deal_title").format(id=rid)})
    if not silent:
        announce(portal, ek, "ADD", rid)
    return rid


def modify(portal: "Portal", ek: EntityKind, rid: int, raw: dict[str, Any], *, item_api: bool = False) -> bool:
    """Update a record. Every call moves DATE_MODIFY and fires the update event, changed or not."""
    store = portal.store
    moved = False
    with store.lock:
        old = store.get(ek.kind, rid)
        if old is None:
            return False
        defs = field_defs(portal, ek)
        changes = _convert(portal, defs, raw, old, item_api, allow={"CATEGORY_ID"} if item_api else set())
        record = {**old, **changes}
        if ek.stages:
            _apply_stage(portal, ek, record, changes, old)
            moved = record["CATEGORY_ID"] != old.get("CATEGORY_ID")
        record[ek.modified], record[ek.modified_by] = portal.now(), portal.config.webhook_user_id
        _derive(ek, record, changes)
        store.update(ek.kind, rid, record)
    announce(portal, ek, "UPDATE", rid)
    if moved and ek.kind == "DEAL":
        portal.fire("ONCRMDEALMOVETOCATEGORY", {"FIELDS": {"ID": rid, "CATEGORY_ID": record["CATEGORY_ID"],
                                                           "STAGE_ID": record["STAGE_ID"]}})
    return True


def remove(portal: "Portal", ek: EntityKind, rid: int) -> bool:
    if not portal.store.delete(ek.kind, rid):
        return False
    announce(portal, ek, "DELETE", rid)
    return True


def announce(portal: "Portal", ek: EntityKind, action: str, rid: int) -> None:
    """Fire ONCRM{ENTITY}{ACTION}; smart processes also fire the ..._{entityTypeId} variant."""
    if ek.dynamic:
        data = {"FIELDS": {"ID": rid, "ENTITY_TYPE_ID": ek.entity_type_id}}
        portal.fire(f"{ek.event}{action}", data)
        portal.fire(f"{ek.event}{action}_{ek.entity_type_id}", data)
    else:
        portal.fire(f"{ek.event}{action}", {"FIELDS": {"ID": rid}})

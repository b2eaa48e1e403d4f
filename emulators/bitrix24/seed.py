"""Seed files: the portal a test or a person starts from (pipelines, stages, user fields, records).

A seed is YAML (or the same structure as a dict). Every section is optional:

    portal:        identity and webhook (domain, timezone, currency, language, webhook_user_id,
                   webhook_code, application_token, scopes)
    users:         [{ID, NAME, LAST_NAME, EMAIL, WORK_POSITION}]
    pipelines:     [{id, name, sort, stages: [{id, name, semantics: process|success|failure|apology, color}]}]
    smart_processes: [{entityTypeId, title, parents: [2], children: [], pipelines: [...]}]
    userfields:    {deal: [...], company: [...], contact: [...]}   (crm.*.userfield.add fields)
    companies / contacts / deals / requisites / bankdetails: [{...old-API FIELDS, optional ID...}]
    items:         {<entityTypeId>: [{...fields, camelCase or UPPER...}]}
    handlers:      [{event, url, application_token, id}]

Stage ids are written without the pipeline prefix; the loader adds "C{n}:" / "DT{type}_{n}:".
Seeded records fire no events. DATE_CREATE / DATE_MODIFY may be given to backdate records.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import entities as ent
from .store import SmartType
from .timeutil import parse_datetime

if TYPE_CHECKING:
    from .portal import Portal

DICTIONARIES: dict[str, list[tuple[str, str]]] = {
    "DEAL_TYPE": [("SALE", "Продажа"), ("COMPLEX", "Комплексная продажа"), ("GOODS", "Продажа товара"),
                  ("SERVICES", "Продажа услуги"), ("SERVICE", "Сервисное обслуживание")],
    "SOURCE": [("CALL", "Звонок"), ("EMAIL", "Электронная почта"), ("WEB", "Веб-сайт"), ("ADVERTISING", "Реклама"),
               ("PARTNER", "Существующий клиент"), ("RECOMMENDATION", "По рекомендации"), ("OTHER", "Другое")],
    "COMPANY_TYPE": [("CUSTOMER", "Клиент"), ("SUPPLIER", "Поставщик"), ("COMPETITOR", "Конкурент"),
                     ("PARTNER", "Партнер"), ("OTHER", "Другое")],
    "CONTACT_TYPE": [("CLIENT", "Клиенты"), ("SUPPLIER", "Поставщики"), ("PARTNER", "Партнеры"), ("OTHER", "Другое")],
    "INDUSTRY": [("IT", "Информационные технологии"), ("MANUFACTURING", "Производство"), ("OTHER", "Другое")],
    "EMPLOYEES": [("EMPLOYEES_1", "менее 50"), ("EMPLOYEES_2", "50-250"), ("EMPLOYEES_3", "250-500"),
                  ("EMPLOYEES_4", "более 500")],
    "HONORIFIC": [("HNR_RU_1", "г-н"), ("HNR_RU_2", "г-жа")],
}
_KINDS = {"deals": ent.DEAL, "companies": ent.COMPANY, "contacts": ent.CONTACT,
          "requisites": ent.REQUISITE, "bankdetails": ent.BANKDETAIL}
_UF_ENTITIES = {"deal": "CRM_DEAL", "company": "CRM_COMPANY", "contact": "CRM_CONTACT"}


def load_seed(source: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """A seed from a YAML file path, or a dict as it is."""
    if source is None or isinstance(source, dict):
        return source
    with open(source, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def install_base(portal: "Portal") -> None:
    """What every fresh portal has: its admin user, the default deal pipeline, the stock dictionaries."""
    from .methods.pipelines import add_pipeline
    from .store import Status
    store = portal.store
    store.users[portal.config.webhook_user_id] = {"ID": portal.config.webhook_user_id, "NAME": "Admin",
                                                  "LAST_NAME": "", "EMAIL": "admin@example.com"}
    add_pipeline(portal, 2, 0, "Общая" if portal.config.language == "ru" else "General", 500, is_default=True)
    for entity, rows in DICTIONARIES.items():
        for i, (status_id, name) in enumerate(rows):
            store.add_status(Status(store.next_serial("STATUS", 100), entity, status_id, name, (i + 1) * 10,
                                    system=True))


def _stages(raw: list[dict[str, Any]] | None) -> list[tuple[str, str, str, str | None]] | None:
    if not raw:
        return None
    return [(str(s["id"]), str(s.get("name", s["id"])), str(s.get("semantics", "process")), s.get("color"))
            for s in raw]


def _pipelines(portal: "Portal", entity_type_id: int, pipelines: list[dict[str, Any]]) -> None:
    from .methods.pipelines import add_pipeline
    store = portal.store
    for p in pipelines:
        cid = int(p.get("id", 0))
        if store.category(entity_type_id, cid) is not None:  # re-seeding the default pipeline
            store.categories[entity_type_id].pop(cid)
            from .store import stage_entity_id
            store.statuses = [s for s in store.statuses if s.entity_id != stage_entity_id(entity_type_id, cid)]
        default = bool(p.get("default", cid == 0 if entity_type_id == 2 else False))
        add_pipeline(portal, entity_type_id, cid, str(p.get("name", f"Pipeline {cid}")), int(p.get("sort", 500)),
                     _stages(p.get("stages")), is_default=default)


def _enum_by_text(portal: "Portal", ek: ent.EntityKind, fields: dict[str, Any]) -> dict[str, Any]:
    """Seed convenience: an enumeration value may be given by its text instead of its id."""
    if not ek.uf_entity:
        return fields
    out = dict(fields)
    for uf in portal.store.userfields_of(ek.uf_entity):
        if uf.user_type_id != "enumeration" or uf.field_name not in out:
            continue
        values = out[uf.field_name] if isinstance(out[uf.field_name], list) else [out[uf.field_name]]
        ids = [next((i["ID"] for i in uf.items if i["VALUE"] == v), v) for v in values]
        out[uf.field_name] = ids if isinstance(out[uf.field_name], list) else ids[0]
    return out


def _records(portal: "Portal", ek: ent.EntityKind, rows: list[dict[str, Any]], item_api: bool = False) -> None:
    for row in rows or []:
        fields = _enum_by_text(portal, ek, {k: v for k, v in row.items() if k not in ("ID", "id")})
        if item_api:
            from .methods.items import _incoming
            fields = _incoming(ent.field_defs(portal, ek), fields)
        rid = row.get("ID", row.get("id"))
        rid = ent.create(portal, ek, fields, item_api=item_api, record_id=int(rid) if rid else None, silent=True)
        stamps = {name: parse_datetime(row[key], portal.tz) for key, name in
                  (("DATE_CREATE", ek.created), ("DATE_MODIFY", ek.modified), ("createdTime", ek.created),
                   ("updatedTime", ek.modified)) if key in row}
        if stamps:
            portal.store.update(ek.kind, rid, stamps)


def apply_seed(portal: "Portal", seed: dict[str, Any]) -> None:
    """Load everything except the `portal` section (create_app reads that one)."""
    from .methods.userfields import build_userfield
    store = portal.store
    for user in seed.get("users") or []:
        store.users[int(user["ID"])] = {**user, "ID": int(user["ID"])}
    _pipelines(portal, 2, seed.get("pipelines") or [])
    for sp in seed.get("smart_processes") or []:
        etid = int(sp["entityTypeId"])
        store.types[etid] = SmartType(int(sp.get("id", len(store.types) + 1)), etid, str(sp.get("title", etid)),
                                      [int(x) for x in sp.get("parents", [2])], [int(x) for x in sp.get("children", [])])
        _pipelines(portal, etid, sp.get("pipelines") or [{"id": store.next_serial("SPA_CATEGORY", 10),
                                                          "name": sp.get("title", "Default"), "default": True}])
    for entity, fields_list in (seed.get("userfields") or {}).items():
        uf_entity = _UF_ENTITIES.get(str(entity), f"CRM_{entity}")
        for fields in fields_list or []:
            store.add_userfield(build_userfield(portal, uf_entity, fields))
    for section in ("companies", "contacts", "deals", "requisites", "bankdetails"):
        _records(portal, _KINDS[section], seed.get(section) or [])
    for etid, rows in (seed.get("items") or {}).items():
        _records(portal, ent.dynamic_kind(int(etid)), rows, item_api=True)
    for h in seed.get("handlers") or []:
        portal.add_handler(h["event"], h["url"], h.get("application_token"), h.get("id"))

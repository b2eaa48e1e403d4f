"""crm.{deal,company,contact}.userfield.*: user-field definitions (the UF_CRM_* columns).

The relay creates its link fields (parent deal, child deals, cost price, deadlines...) through
these, and reads them back with `.list`, so names, types and settings follow the documented rules:
the `UF_CRM_` prefix is added, `crm` fields with no entity enabled get LEAD=Y, labels come back as
strings only when `filter[LANG]` is given.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from ..errors import FILTER_NOT_ARRAY, NOT_FOUND, ORDER_NOT_ARRAY, crm_error
from ..php import as_list
from ..store import UserField
from . import Call, Reply, entity_id, rest
from .crm import array_param, as_map, fields_param

TYPES = {"string", "integer", "double", "boolean", "datetime", "date", "money", "url", "address", "enumeration",
         "file", "employee", "crm_status", "iblock_section", "iblock_element", "crm"}
_LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE")
_DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "string": {"SIZE": 20, "ROWS": 1, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0, "DEFAULT_VALUE": ""},
    "integer": {"SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "double": {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0.0, "MAX_VALUE": 0.0, "DEFAULT_VALUE": None},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""},
    "date": {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}},
    "datetime": {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}, "USE_SECOND": "Y", "USE_TIMEZONE": "N"},
    "enumeration": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"},
    "crm": {"LEAD": "N", "CONTACT": "N", "COMPANY": "N", "DEAL": "N"},
    "money": {"DEFAULT_VALUE": ""},
}
ENTITIES = {"crm.deal": "CRM_DEAL", "crm.company": "CRM_COMPANY", "crm.contact": "CRM_CONTACT"}


def _yn(value: Any, default: str = "N") -> str:
    if value in (None, ""):
        return default
    return "Y" if value is True or str(value).upper() in ("Y", "1", "TRUE") else "N"


def _label(value: Any, lang: str = "ru") -> Any:
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or next(iter(value.values()), None)
    return value


def build_userfield(portal: Any, entity: str, fields: dict[str, Any]) -> UserField:
    """Validate `crm.*.userfield.add` fields and make the definition (not yet stored)."""
    name = str(fields.get("FIELD_NAME") or "").strip()
    if not name:
        raise crm_error("The 'FIELD_NAME' field is not found.")
    utype = str(fields.get("USER_TYPE_ID") or "").strip()
    if not utype:
        raise crm_error("The 'USER_TYPE_ID' field is not found.")
    full = name if name.startswith("UF_CRM_") else f"UF_CRM_{name}"
    if len(full) > 50:
        raise crm_error("Field name is too long (more than 50 characters).")
    if not re.fullmatch(r"[A-Z0-9_]+", full):
        raise crm_error("Field name contains invalid characters. Allowed characters are: A-Z, 0-9, and _.")
    if utype not in TYPES:
        raise crm_error("Invalid custom type specified")
    if portal.store.find_userfield(entity, full):
        raise crm_error(f"A user field with the code {full} already exists.")
    settings = {**_DEFAULT_SETTINGS.get(utype, {}), **as_map(fields.get("SETTINGS") or {})}
    if utype == "crm":
        settings = {k: _yn(v) if k in ("LEAD", "CONTACT", "COMPANY", "DEAL") else v for k, v in settings.items()}
        if not any(settings.get(k) == "Y" for k in ("LEAD", "CONTACT", "COMPANY", "DEAL")) and \
                not any(str(k).startswith("DYNAMIC_") and v == "Y" for k, v in settings.items()):
            settings["LEAD"] = "Y"
    label = fields.get("LABEL")
    labels = {k: _label(fields.get(k, label if k in _LABELS[:3] else None)) for k in _LABELS}
    uf = UserField(id=portal.store.next_serial("USERFIELD", 100), entity_id=entity, field_name=full,
                   user_type_id=utype, multiple=_yn(fields.get("MULTIPLE")) == "Y" and utype != "boolean",
                   mandatory=_yn(fields.get("MANDATORY")) == "Y", settings=settings, labels=labels,
                   sort=int(str(fields.get("SORT") or 100)), xml_id=fields.get("XML_ID"),
                   show_filter=_yn(fields.get("SHOW_FILTER")), show_in_list=_yn(fields.get("SHOW_IN_LIST"), "Y"),
                   edit_in_list=_yn(fields.get("EDIT_IN_LIST"), "Y"), is_searchable=_yn(fields.get("IS_SEARCHABLE")))
    uf.items = _enum_items(portal, full, fields.get("LIST"))
    return uf


def _enum_items(portal: Any, name: str, raw: Any) -> list[dict[str, Any]]:
    items, seen = [], set()
    for entry in as_list(raw):
        if not isinstance(entry, dict) or not entry.get("VALUE"):
            continue  # items without VALUE are ignored
        xml = str(entry.get("XML_ID") or hashlib.md5(f"{name}{entry['VALUE']}".encode()).hexdigest())
        if xml in seen:
            raise crm_error(f"List item with value XML_ID='{xml}' already exists")
        seen.add(xml)
        items.append({"ID": portal.store.next_serial("ENUM", 1000), "SORT": int(str(entry.get("SORT") or 0)),
                      "VALUE": str(entry["VALUE"]), "DEF": _yn(entry.get("DEF")), "XML_ID": xml})
    return sorted(items, key=lambda i: i["SORT"])


def userfield_rest(uf: UserField, lang: str | None) -> dict[str, Any]:
    """A definition as `.userfield.list/get` prints it; labels only when a language is asked for."""
    out: dict[str, Any] = {"ID": str(uf.id), "ENTITY_ID": uf.entity_id, "FIELD_NAME": uf.field_name,
                           "USER_TYPE_ID": uf.user_type_id, "XML_ID": uf.xml_id, "SORT": str(uf.sort),
                           "MULTIPLE": "Y" if uf.multiple else "N", "MANDATORY": "Y" if uf.mandatory else "N",
                           "SHOW_FILTER": uf.show_filter, "SHOW_IN_LIST": uf.show_in_list,
                           "EDIT_IN_LIST": uf.edit_in_list, "IS_SEARCHABLE": uf.is_searchable,
                           "SETTINGS": uf.settings}
    if lang:
        out.update({k: _label(uf.labels.get(k), lang) for k in _LABELS})
    if uf.user_type_id == "enumeration":
        out["LIST"] = [{"ID": str(i["ID"]), "SORT": str(i["SORT"]), "VALUE": i["VALUE"], "DEF": i["DEF"],
                        "XML_ID": i["XML_ID"]} for i in uf.items]
    return out


def _find(call: Call, entity: str) -> UserField:
    uid = entity_id(call.params)
    uf = next((u for u in call.portal.store.userfields_of(entity) if u.id == uid), None)
    if uf is None:
        raise crm_error(NOT_FOUND)
    return uf


def register(prefix: str, entity: str) -> None:
    @rest(f"{prefix}.userfield.add")
    def add(call: Call) -> int:
        uf = call.portal.store.add_userfield(build_userfield(call.portal, entity, fields_param(call)))
        call.portal.fire(f"ONCRM{entity[4:]}USERFIELDADD", {"id": uf.id, "entityId": entity, "fieldName": uf.field_name})
        return uf.id

    @rest(f"{prefix}.userfield.list")
    def list_(call: Call) -> Reply:
        flt = dict(as_map(array_param(call.params, "filter", FILTER_NOT_ARRAY, {})))
        order = as_map(array_param(call.params, "order", ORDER_NOT_ARRAY, {}))
        lang = flt.pop("LANG", None)
        rows = [userfield_rest(u, None) for u in call.portal.store.userfields_of(entity)]
        rows = [r for r in rows if all(str(r.get(k)) == str(v) for k, v in flt.items())]
        for key, direction in reversed(list(order.items())):
            rows.sort(key=lambda r: (str(r.get(key)).zfill(12) if str(r.get(key)).isdigit() else str(r.get(key))),
                      reverse=str(direction).upper() == "DESC")
        if lang:
            by_id = {u.id: u for u in call.portal.store.userfields_of(entity)}
            rows = [userfield_rest(by_id[int(r["ID"])], str(lang)) for r in rows]
        return Reply(rows, len(rows))

    @rest(f"{prefix}.userfield.get")
    def get(call: Call) -> dict:
        return userfield_rest(_find(call, entity), "ru")

    @rest(f"{prefix}.userfield.update")
    def update(call: Call) -> bool:
        uf = _find(call, entity)
        fields = fields_param(call)
        with call.portal.store.lock:
            if "SETTINGS" in fields:
                uf.settings = {**uf.settings, **as_map(fields["SETTINGS"] or {})}
            for key in ("MANDATORY", "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE"):
                if key in fields:
                    setattr(uf, key.lower(), _yn(fields[key]) == "Y" if key == "MANDATORY" else _yn(fields[key]))
            if "SORT" in fields:
                uf.sort = int(str(fields["SORT"]))
            for key in _LABELS:
                if key in fields or "LABEL" in fields:
                    uf.labels[key] = _label(fields.get(key, fields.get("LABEL")))
            if "LIST" in fields:
                uf.items = _enum_items(call.portal, uf.field_name, fields["LIST"])
        return True

    @rest(f"{prefix}.userfield.delete")
    def delete(call: Call) -> bool:
        uf = _find(call, entity)
        with call.portal.store.lock:
            call.portal.store.userfields.remove(uf)
        return True


for _prefix, _entity in ENTITIES.items():
    register(_prefix, _entity)

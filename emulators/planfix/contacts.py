"""Contact (and company) writes shared by `POST /contact/`, `POST /contact/{id}` and the seed.

Same split as tasks: create is strict (the spec's 400 code 2001), update reports fields it could
not set in `failures`. Telegram id/username are plain fields, filterable with 4234/4226.
"""
from __future__ import annotations

from typing import Any

from .errors import ApiError
from .state import PlanfixState
from .tasks import _Failed, people_block
from .values import FieldError, normalise

TEXT = ("name", "midname", "lastname", "description", "address", "site", "email", "skype", "telegramId", "telegram",
        "facebook", "instagram", "vk", "position", "sourceObjectId", "sourceDataVersion")
GENDERS = ("NotDefined", "Female", "Male")


def blank_contact(state: PlanfixState) -> dict[str, Any]:
    now = state.now()
    return {"id": None, "template": None, **{k: "" for k in TEXT}, "gender": "NotDefined", "isCompany": False,
            "isDeleted": False, "additionalEmailAddresses": [], "group": None, "birthDate": None, "createdDate": now,
            "dateOfLastUpdate": now, "supervisors": {"users": [], "groups": []}, "phones": [], "companies": [],
            "contacts": [], "files": [], "custom": {}}


def _one(state: PlanfixState, contact: dict[str, Any], key: str, value: Any) -> None:
    if key in TEXT:
        contact[key] = "" if value is None else str(value)
    elif key == "gender":
        if value not in GENDERS:
            raise _Failed("bad gender")
        contact[key] = value
    elif key in ("isCompany", "isDeleted"):
        contact[key] = bool(value)
    elif key == "additionalEmailAddresses":
        contact[key] = [str(v) for v in value or []]
    elif key in ("group", "template"):
        ident = int(value["id"]) if isinstance(value, dict) and value.get("id") else None
        if key == "group" and ident and ident not in state.groups:
            raise _Failed("unknown group")
        contact[key] = ident
    elif key == "birthDate":
        contact[key] = state.dates.parse(value) if value else None
    elif key == "supervisors":
        contact[key] = people_block(state, value)
    elif key == "phones":
        phones = []
        for phone in value or []:
            kind = int(phone.get("type") or 1)
            if kind not in (1, 2, 3, 4) or not str(phone.get("number") or "").strip():
                raise _Failed("bad phone")
            phones.append({"number": str(phone["number"]).strip(), "type": kind})
        contact[key] = phones
    elif key in ("companies", "contacts"):
        ids = [int(str(v.get("id") if isinstance(v, dict) else v).split(":")[-1]) for v in value or []]
        if any(i not in state.contacts for i in ids):
            raise _Failed("unknown contact")
        contact[key] = ids
    elif key == "files":
        ids = [int(f["id"] if isinstance(f, dict) else f) for f in value or []]
        if any(i not in state.files for i in ids):
            raise _Failed("unknown file")
        contact[key] = ids


def apply_contact(state: PlanfixState, contact: dict[str, Any], data: dict[str, Any],
                  creating: bool) -> list[dict[str, str]]:
    failures: list[dict[str, str]] = []
    for key, value in data.items():
        if key in ("customFieldData", "id"):
            continue
        try:
            _one(state, contact, key, value)
        except (_Failed, FieldError, ValueError, TypeError, KeyError, AttributeError) as exc:
            if creating:
                raise ApiError(400, 2001, "Rest API error") from exc
            failures.append({"field": key, "error": "Field change failed"})
    for item in data.get("customFieldData") or []:
        field_id = (item.get("field") or {}).get("id") if isinstance(item, dict) else None
        try:
            field = state.field_of("contact", field_id)
            contact["custom"][field["id"]] = normalise(field, item.get("value"), state)
        except (ApiError, FieldError, ValueError, TypeError) as exc:
            if creating:
                raise ApiError(400, 2001, "Rest API error") from exc
            failures.append({"field": str(field_id), "error": "Field change failed"})
    contact["dateOfLastUpdate"] = state.now()
    return failures


def create_contact(state: PlanfixState, data: dict[str, Any], contact_id: int | None = None) -> dict[str, Any]:
    contact = blank_contact(state)
    apply_contact(state, contact, data, creating=True)
    if not (contact["name"] or contact["lastname"]):
        raise ApiError(400, 2001, "Rest API error")
    contact["id"] = contact_id if contact_id is not None else state.next_id("contact")
    state.contacts[contact["id"]] = contact
    for company in contact["companies"]:
        if contact["id"] not in state.contacts[company]["contacts"]:
            state.contacts[company]["contacts"].append(contact["id"])
    return contact

"""`/contact/...` (clients and companies) and `/user/...` (employees).

Contacts take `contact:12` or `12` in the path and answer a bare numeric `id` unless
`prefixedId: true` is asked for in `/contact/list`; employees likewise take `user:1` or `1`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .contacts import apply_contact, create_contact
from .errors import ApiError, contact_not_found
from .filters import CONTACT_FILTERS, CUSTOM_BASES, USER_FILTERS, matches
from .http import body, fields_arg, ok, page, route
from .state import PlanfixState
from .views import CONTACT, USER, select

bp = Blueprint("planfix_people", __name__)


def _contact(st: PlanfixState, raw: str, for_update: bool = False) -> dict[str, Any]:
    ident = st.contact_id(raw)
    if ident is None or ident not in st.contacts:
        raise contact_not_found(raw, 404, for_update)
    return st.contacts[ident]


@route(bp, "/contact/<raw_id>", ["GET"], "contact_readonly")
def get_contact(st: PlanfixState, actor: str, raw_id: str) -> Response:
    return ok(contact=select(st, _contact(st, raw_id), CONTACT, fields_arg(), 1))


@route(bp, "/contact/", ["POST"], "contact_add")
def add_contact(st: PlanfixState, actor: str) -> Response:
    return ok(201, id=create_contact(st, body())["id"])


@route(bp, "/contact/<raw_id>", ["POST"], "contact_update")
def update_contact(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    failures = apply_contact(st, _contact(st, raw_id, for_update=True), data, creating=False)
    return ok(failures=failures) if failures else ok()


@route(bp, "/contact/list", ["POST"], "contact_readonly")
def list_contacts(st: PlanfixState, actor: str) -> Response:
    data = body()
    want_company = bool(data.get("isCompany", False))
    rows = [c for c in sorted(st.contacts.values(), key=lambda c: c["id"])
            if not c["isDeleted"] and c["isCompany"] == want_company
            and matches(st, c, data.get("filters"), CONTACT_FILTERS, CUSTOM_BASES["contact"])]
    out = [select(st, c, CONTACT, fields_arg(data), 1) for c in page(rows, data)]
    if data.get("prefixedId"):
        out = [{**c, "id": f"contact:{c['id']}"} for c in out]
    return ok(contacts=out)


def _user(st: PlanfixState, raw: str) -> dict[str, Any]:
    text = raw.removeprefix("user:")
    if not text.isdigit() or int(text) not in st.users:
        raise ApiError(400, 4000, f"Employee not found by id - {raw}")
    return st.users[int(text)]


@route(bp, "/user/<raw_id>", ["GET"], "user_readonly")
def get_user(st: PlanfixState, actor: str, raw_id: str) -> Response:
    return ok(user=select(st, _user(st, raw_id), USER, fields_arg(), 6))


@route(bp, "/user/list", ["POST"], "user_readonly")
def list_users(st: PlanfixState, actor: str) -> Response:
    data = body()
    rows = [u for u in sorted(st.users.values(), key=lambda u: u["id"])
            if not (data.get("onlyActive") and u.get("status") != "Active")
            and matches(st, u, data.get("filters"), USER_FILTERS, CUSTOM_BASES["user"])]
    out = [select(st, u, USER, fields_arg(data), 6) for u in page(rows, data)]
    if data.get("prefixedId"):
        out = [{**u, "id": f"user:{u['id']}"} for u in out]
    return ok(users=out)


@route(bp, "/user/groups", ["GET"], "user_readonly")
def user_groups(st: PlanfixState, actor: str) -> Response:
    return ok(groups=[{"id": g["id"], "name": g["name"]} for g in sorted(st.groups.values(), key=lambda g: g["id"])])

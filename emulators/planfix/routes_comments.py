"""Task comments, `/comment/{id}`, and data-tag entries (the "analytics" of the UI).

Each `POST /task/{id}/datatags/` creates a new comment carrying the entries, as Planfix does;
time tracking is exactly that (entries of the account's time data tag).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .comments import add_comment, add_entries, find_comment, update_comment
from .errors import ApiError, bad_value, task_not_found
from .filters import CUSTOM_BASES, TASK_FILTERS, matches
from .http import body, fields_arg, ok, page, route, silent
from .state import PlanfixState
from .values import FieldError, normalise
from .views import COMMENT, custom_data, field_head, parse_fields, select

bp = Blueprint("planfix_comments", __name__)

TYPE_LISTS = ("Comments", "All", "New", "Deleted")


def _task(st: PlanfixState, raw: str, status: int) -> dict[str, Any]:
    if not raw.isdigit() or int(raw) not in st.tasks or st.tasks[int(raw)]["type"] == "Checkmark":
        raise task_not_found(raw, status)
    return st.tasks[int(raw)]


def _in_list(comment: dict[str, Any], type_list: str) -> bool:
    if type_list == "Deleted":
        return comment["isDeleted"]
    if comment["isDeleted"]:
        return False
    if type_list == "Comments":
        return not comment.get("system")
    if type_list == "New":
        return False  # read marks are per person; the emulator treats everything as read
    return True


def _order(comments: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    for rule in reversed(order or []):
        key = rule.get("field") or rule.get("filed") or "id"  # the schema misspells it "filed"
        if key not in ("id", "dateTime"):
            raise bad_value(f"Invalid sort field {key}")
        getter = (lambda c: c["id"]) if key == "id" else (lambda c: (c["dateTime"].at, c["id"]))
        comments = sorted(comments, key=getter, reverse=str(rule.get("direction", "Asc")) == "Desc")
    return comments


@route(bp, "/task/<raw_id>/comments/list", ["POST"], "comment_readonly")
def list_comments(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    task = _task(st, raw_id, 500)
    type_list = str(data.get("typeList") or "Comments")
    if type_list not in TYPE_LISTS:
        raise bad_value(f"Invalid typeList {type_list}")
    rows = sorted((c for c in st.comments.values() if c["task"] == task["id"] and _in_list(c, type_list)),
                  key=lambda c: c["id"])
    rows = page(_order(rows, data.get("resultOrder")), data)
    return ok(comments=[select(st, c, COMMENT, fields_arg(data)) for c in rows])


@route(bp, "/task/<raw_id>/comments/", ["POST"], "comment_add")
def create_comment(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    comment = add_comment(st, data, actor, task=_task(st, raw_id, 400), silent=silent())
    return ok(201, id=comment["id"])


@route(bp, "/task/<raw_id>/comments/<comment_id>", ["POST"], "comment_update")
def edit_comment(st: PlanfixState, actor: str, raw_id: str, comment_id: str) -> Response:
    data = body()
    task = _task(st, raw_id, 400)
    update_comment(st, find_comment(st, comment_id, task["id"]), data)
    return ok()


@route(bp, "/comment/<comment_id>", ["GET"], "comment_readonly")
def get_comment(st: PlanfixState, actor: str, comment_id: str) -> Response:
    return ok(comment=select(st, find_comment(st, comment_id), COMMENT, fields_arg()))


@route(bp, "/comment/<comment_id>", ["DELETE"], "comment_delete")
def delete_comment(st: PlanfixState, actor: str, comment_id: str) -> Response:
    find_comment(st, comment_id)["isDeleted"] = True
    return ok()


# -- data tags --------------------------------------------------------------------------------
@route(bp, "/task/<raw_id>/datatags/", ["POST"], "datatag_add")
def add_task_entries(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    keys, comment_id = add_entries(st, data, actor, task=_task(st, raw_id, 400))
    return ok(201, keys=keys, commentId=comment_id)


@route(bp, "/task/<raw_id>/datatags/<comment_id>", ["POST"], "datatag_add")
def add_entries_to_comment(st: PlanfixState, actor: str, raw_id: str, comment_id: str) -> Response:
    data = body()
    keys, _ = add_entries(st, data, actor, task=_task(st, raw_id, 400), comment_id=comment_id)
    return ok(201, keys=keys)


def tag_head(st: PlanfixState, tag_id: int) -> dict[str, Any]:
    tag = st.data_tags[tag_id]
    return {"id": tag["id"], "name": tag["name"], "group": tag.get("group"),
            "fields": [field_head(st.fields[f]) for f in tag["fields"]]}


def entry_view(st: PlanfixState, entry: dict[str, Any], fields: Any) -> dict[str, Any]:
    names, ids = parse_fields(fields)
    full: dict[str, Any] = {"dataTag": tag_head(st, entry["dataTag"]), "key": entry["key"],
                            "commentId": entry["commentId"]}
    if entry["task"]:
        full["task"] = {"id": entry["task"], "name": st.task_name(entry["task"])}
    if entry["contact"]:
        full["contact"] = {"id": entry["contact"], "name": st.person_name(f"contact:{entry['contact']}")}
    out = {k: v for k, v in full.items() if k == "key" or k in names or not (names or ids)}
    wanted = ids or ([] if names else st.data_tags[entry["dataTag"]]["fields"])
    if wanted:
        out["customFieldData"] = custom_data(st, {"custom": entry["custom"]}, wanted, 4)
    return out


def _entry(st: PlanfixState, key: str) -> dict[str, Any]:
    if not key.isdigit() or int(key) not in st.entries:
        raise ApiError(400, 6000, f"Entry not found by key - {key}")
    return st.entries[int(key)]


@route(bp, "/datatag/entry/<key>", ["GET"], "datatag_readonly")
def get_entry(st: PlanfixState, actor: str, key: str) -> Response:
    return ok(entry=entry_view(st, _entry(st, key), fields_arg()))


@route(bp, "/datatag/entry/<key>", ["POST"], "datatag_update")
def update_entry(st: PlanfixState, actor: str, key: str) -> Response:
    data, entry = body(), _entry(st, key)
    try:
        for cf in data.get("customFieldData") or []:
            field = st.fields[int(cf["field"]["id"])]
            assert field["id"] in st.data_tags[entry["dataTag"]]["fields"]
            entry["custom"][field["id"]] = normalise(field, cf.get("value"), st)
    except (KeyError, TypeError, ValueError, AssertionError, FieldError) as exc:
        raise ApiError(400, 6002, "Update error") from exc
    return ok()


@route(bp, "/datatag/entry/<key>", ["DELETE"], "datatag_delete")
def delete_entry(st: PlanfixState, actor: str, key: str) -> Response:
    entry = st.entries.pop(_entry(st, key)["key"])
    comment = st.comments.get(entry["commentId"])
    if comment and entry["key"] in comment["dataTags"]:
        comment["dataTags"].remove(entry["key"])
    return ok()


@route(bp, "/datatag/<int:tag_id>/entry/list", ["POST"], "datatag_readonly")
def list_entries(st: PlanfixState, actor: str, tag_id: int) -> Response:
    data = body()
    if tag_id not in st.data_tags:
        raise ApiError(400, 0, "Rest API error")
    rows = sorted((e for e in st.entries.values() if e["dataTag"] == tag_id), key=lambda e: e["key"])
    if data.get("taskId"):
        rows = [e for e in rows if e["task"] == int(data["taskId"])]
    if data.get("contactId"):
        rows = [e for e in rows if e["contact"] == st.contact_id(data["contactId"])]
    entry_filters = [f for f in data.get("filters") or [] if 3100 < int(f.get("type", 0)) < 3200]
    task_filters = [f for f in data.get("filters") or [] if f not in entry_filters]
    def keep(e: dict[str, Any]) -> bool:
        if not matches(st, {"custom": e["custom"]}, entry_filters, {}, CUSTOM_BASES["entry"]):
            return False
        return not task_filters or bool(e["task"]) and matches(st, st.tasks[e["task"]], task_filters, TASK_FILTERS,
                                                               CUSTOM_BASES["task"])
    rows = [e for e in rows if keep(e)]
    return ok(dataTagEntries=[entry_view(st, e, fields_arg(data)) for e in page(rows, data)])

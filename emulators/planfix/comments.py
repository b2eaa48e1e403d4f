"""Comments ("actions") on tasks and contacts, status-change entries, data-tag entries.

Every comment added through the API, the UI control actions or a data-tag write is a new row
with its own id, bumps the task's "last change or comment" date (filter 79) and fires the
`comment_added` scenario event unless `silent=true` — that is how Planfix loops back into a
relay that both writes comments and listens for them.
"""
from __future__ import annotations

from typing import Any

from .dates import When
from .errors import ApiError, bad_value, comment_not_found, file_not_found
from .state import PlanfixState
from .tasks import _Failed, people_block
from .values import FieldError, normalise, person_ref

ROLES = ("assignee", "participant", "auditor", "assigner")


def _recipients(state: PlanfixState, task: dict[str, Any] | None, value: Any) -> dict[str, list[Any]]:
    """Stored recipients: listed users and groups plus everyone in the listed task roles."""
    if not value:
        return {"users": [], "groups": []}
    try:
        block = people_block(state, {"users": value.get("users"), "groups": value.get("groups")})
    except (_Failed, FieldError, ValueError, TypeError) as exc:
        raise bad_value(f"Invalid recipients: {exc}") from exc
    roles = value.get("roles") or []
    roles = [roles] if isinstance(roles, str) else list(roles)
    if task is not None:
        for role in roles:
            if role not in ROLES:
                raise bad_value(f"Invalid recipients role {role}")
            refs = [task["assigner"]] if role == "assigner" else task[role + "s"]["users"]
            block["users"] += [r for r in refs if r and r not in block["users"]]
    return block


def _file_ids(state: PlanfixState, value: Any) -> list[int]:
    ids = [int(f.get("id") if isinstance(f, dict) else f) for f in value or []]
    for file_id in ids:
        if file_id not in state.files:
            raise file_not_found(file_id)
    return ids


def add_comment(state: PlanfixState, body: dict[str, Any], actor: str, *, task: dict[str, Any] | None = None,
                contact: dict[str, Any] | None = None, silent: bool = False, from_type: str = "None",
                fire: bool = True) -> dict[str, Any]:
    """Store one comment on a task (or a contact); fires `comment_added` for tasks."""
    if task is not None:
        process = state.processes.get(task["processId"]) or {}
        if process.get("commentsAllowed") is False:
            raise ApiError(400, 6, "New comments not allowed in this process")
    owner = body.get("owner")
    try:
        owner_ref = person_ref(owner) if owner else actor
    except FieldError as exc:
        raise bad_value(f"Invalid owner: {exc}") from exc
    if state.person(owner_ref) is None:
        raise bad_value(f"Owner not found by id {owner_ref}")
    try:
        when = state.dates.parse(body["dateTime"]) if body.get("dateTime") else When(state.now())
    except ValueError as exc:
        raise bad_value(f"Invalid dateTime: {exc}") from exc
    comment = {"id": state.next_id("comment"), "task": task["id"] if task else None,
               "contact": contact["id"] if contact else None, "dateTime": when, "type": "Comment",
               "fromType": from_type, "description": str(body.get("description") or ""), "owner": owner_ref,
               "isDeleted": False, "isPinned": bool(body.get("isPinned")), "isHidden": bool(body.get("isHidden")),
               "recipients": _recipients(state, task, body.get("recipients")),
               "files": _file_ids(state, body.get("files")), "dataTags": [], "changeStatus": None,
               "sourceObjectId": str(body.get("sourceObjectId") or ""),
               "sourceDataVersion": str(body.get("sourceDataVersion") or "")}
    state.comments[comment["id"]] = comment
    if task is not None:
        task["lastCommentAt"] = state.now()
        if fire and not silent and state.scenarios:
            state.scenarios.fire("comment_added", task=task, comment=comment, actor=owner_ref)
    return comment


def update_comment(state: PlanfixState, comment: dict[str, Any], body: dict[str, Any]) -> None:
    task = state.tasks.get(comment["task"]) if comment["task"] else None
    if "description" in body:
        comment["description"] = str(body["description"] or "")
    if "isPinned" in body:
        comment["isPinned"] = bool(body["isPinned"])
    if "recipients" in body:
        comment["recipients"] = _recipients(state, task, body["recipients"])
    if "files" in body:
        comment["files"] = _file_ids(state, body["files"])


def find_comment(state: PlanfixState, comment_id: Any, task_id: int | None = None) -> dict[str, Any]:
    try:
        comment = state.comments.get(int(comment_id))
    except (TypeError, ValueError):
        comment = None
    if comment is None or (task_id is not None and comment["task"] != task_id):
        raise comment_not_found(comment_id)
    return comment


def status_entry(state: PlanfixState, task: dict[str, Any], actor: str, old_status: int | None) -> None:
    """The history row a status change leaves (`changeStatus`), shown with `typeList: All`."""
    comment = add_comment(state, {}, actor if state.person(actor) else "user:1", task=task, fire=False,
                          from_type="Planfix")
    comment.update(system=True, changeStatus={"newStatusId": task["status"], "oldStatusId": old_status})


def add_entries(state: PlanfixState, body: dict[str, Any], actor: str, *, task: dict[str, Any] | None = None,
                contact: dict[str, Any] | None = None, comment_id: Any = None) -> tuple[list[int], int]:
    """`POST /task/{id}/datatags/[commentId]`: entries on a new (or given) comment -> (keys, comment id)."""
    try:
        tag = state.data_tags[int((body.get("dataTag") or {}).get("id"))]
        items = body.get("items")
        assert isinstance(items, list) and items
        rows = []
        for item in items:
            custom = {}
            for cf in item.get("customFieldData") or []:
                field = state.fields[int(cf["field"]["id"])]
                assert field["id"] in tag["fields"]
                custom[field["id"]] = normalise(field, cf.get("value"), state)
            rows.append(custom)
    except (KeyError, TypeError, ValueError, AssertionError, AttributeError) as exc:
        raise ApiError(400, 6001, "Error add entry") from exc
    if comment_id is None:
        comment = add_comment(state, {}, actor, task=task, contact=contact, fire=False)
    else:
        comment = find_comment(state, comment_id, task["id"] if task else None)
    keys = []
    for custom in rows:
        key = state.next_id("entry")
        state.entries[key] = {"key": key, "dataTag": tag["id"], "commentId": comment["id"],
                              "task": task["id"] if task else None, "contact": contact["id"] if contact else None,
                              "custom": custom}
        comment["dataTags"].append(key)
        keys.append(key)
    if task is not None and comment_id is None and state.scenarios:
        state.scenarios.fire("comment_added", task=task, comment=comment, actor=actor)
    return keys, comment["id"]

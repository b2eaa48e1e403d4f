"""Task rules shared by `POST /task/`, `POST /task/{id}`, the seed and the UI control actions.

Creating and updating go through one `apply_changes`, so a field behaves the same whichever way
it arrives. Create is strict (a bad value is a 400, since the spec has no other channel);
update reports unsettable fields in `failures` with the spec's "Field change failed", except
the status, whose wrong id is the spec's 400 code 41 in both cases.
"""
from __future__ import annotations

from typing import Any

from .dates import When
from .errors import ApiError, bad_value
from .state import PlanfixState
from .values import FieldError, normalise, person_ref

PEOPLE = ("assignees", "participants", "auditors")
PLAIN = {"name": str, "description": str, "resultChecking": bool, "inFavorites": bool, "isSummary": bool,
         "isSequential": bool, "isDeleted": bool, "sourceObjectId": str, "sourceDataVersion": str}
DATES = {"dateTime": None, "startDateTime": "Start", "endDateTime": "End", "delayedTillDate": None}
ENUMS = {"priority": ("NotUrgent", "Urgent"), "durationUnit": ("Minute", "Hour", "Day", "Week", "Month"),
         "durationType": ("CalendarDays", "WorkerDays")}


class _Failed(Exception):
    """One field that could not be set."""


def people_block(state: PlanfixState, value: Any) -> dict[str, list[Any]]:
    """`{"users":[{"id":"user:5"}],"groups":[{"id":3}]}` as stored refs; unknown people fail."""
    if not isinstance(value, dict):
        raise _Failed("people block must be an object")
    users = [person_ref(u) for u in value.get("users") or []]
    groups = [int(g.get("id") if isinstance(g, dict) else g) for g in value.get("groups") or []]
    if any(state.person(r) is None for r in users) or any(g not in state.groups for g in groups):
        raise _Failed("unknown person or group")
    return {"users": users, "groups": groups}


def _ref_id(value: Any) -> int:
    raw = value.get("id") if isinstance(value, dict) else value
    return int(str(raw))


def _apply_one(state: PlanfixState, task: dict[str, Any], key: str, value: Any, status_box: list[Any]) -> None:
    if key in PLAIN:
        task[key] = PLAIN[key](value) if value is not None else ("" if PLAIN[key] is str else False)
    elif key in ENUMS:
        if value not in ENUMS[key]:
            raise _Failed(f"{key} must be one of {ENUMS[key]}")
        task[key] = value
    elif key == "duration":
        task[key] = int(value)
    elif key == "status":
        status_box.append(_ref_id(value))
    elif key == "processId":
        if int(value) not in state.processes:
            raise _Failed("unknown process")
        task["processId"] = int(value)
    elif key == "project":
        pid = _ref_id(value) if value else None
        if pid and pid not in state.projects:
            raise _Failed("unknown project")
        task["project"] = pid or None
    elif key == "parent":
        parent = _ref_id(value) if value else None
        if parent and (parent not in state.tasks or parent == task.get("id")):
            raise _Failed("unknown parent")
        task["parent"] = parent or None
    elif key in ("template", "object"):
        ident = _ref_id(value) if value else None
        if key == "template" and ident and state.tasks.get(ident, {}).get("type") != "Template":
            raise _Failed("unknown template")
        task[key] = ident or None
    elif key in ("assigner", "counterparty"):
        ref = person_ref(value, "contact" if key == "counterparty" else "user") if value else None
        if ref and (state.person(ref) is None or (key == "counterparty" and not ref.startswith("contact:"))):
            raise _Failed(f"unknown {key}")
        task[key] = ref
    elif key in DATES:
        task[key] = state.dates.parse(value) if value else None
        if DATES[key] and value:
            task[f"has{DATES[key]}Date"] = True
    elif key in ("hasStartDate", "hasEndDate") and value is False:
        task[key] = False
        task["startDateTime" if key == "hasStartDate" else "endDateTime"] = None
    elif key in ("hasStartTime", "hasEndTime") and value is False:
        slot = "startDateTime" if key == "hasStartTime" else "endDateTime"
        if task.get(slot):
            task[slot] = When(task[slot].at, False)
    elif key in PEOPLE:
        task[key] = people_block(state, value)
    elif key == "files":
        ids = [_ref_id(f) for f in value or []]
        if any(i not in state.files for i in ids):
            raise _Failed("unknown file")
        task["files"] = ids


def apply_changes(state: PlanfixState, task: dict[str, Any], body: dict[str, Any],
                  creating: bool) -> tuple[list[dict[str, str]], int | None]:
    """Apply a request body; returns (failures, requested status id). Create raises instead."""
    failures: list[dict[str, str]] = []
    status_box: list[Any] = []
    for key, value in body.items():
        if key in ("customFieldData", "id"):
            continue
        try:
            _apply_one(state, task, key, value, status_box)
        except (_Failed, FieldError, ValueError, TypeError, AttributeError) as exc:
            if creating:
                raise bad_value(f"Invalid value of field {key}: {exc}") from exc
            failures.append({"field": key, "error": "Field change failed"})
    for item in body.get("customFieldData") or []:
        field_id = (item.get("field") or {}).get("id") if isinstance(item, dict) else None
        try:
            field = state.field_of("task", field_id)
            task["custom"][field["id"]] = normalise(field, item.get("value"), state)
        except (ApiError, FieldError, ValueError, TypeError) as exc:
            if creating:
                raise bad_value(f"Invalid value of custom field {field_id}: {exc}") from exc
            failures.append({"field": str(field_id), "error": "Field change failed"})
    return failures, (status_box[-1] if status_box else None)


def blank_task(state: PlanfixState, kind: str = "Task") -> dict[str, Any]:
    now = state.now()
    return {"id": None, "type": kind, "name": "", "description": "", "priority": "NotUrgent", "status": None,
            "processId": state.default_process(), "resultChecking": False, "assigner": None, "parent": None,
            "object": None, "template": None, "project": None, "counterparty": None, "dateTime": When(now),
            "startDateTime": None, "endDateTime": None, "hasStartDate": False, "hasEndDate": False,
            "delayedTillDate": None, "actualCompletionDate": None, "dateOfLastUpdate": now, "lastCommentAt": None,
            "duration": 0, "durationUnit": "Day", "durationType": "CalendarDays", "inFavorites": False,
            "isSummary": False, "isSequential": False, "isDeleted": False,
            "assignees": {"users": [], "groups": []}, "participants": {"users": [], "groups": []},
            "auditors": {"users": [], "groups": []}, "custom": {}, "files": [], "checklist": [],
            "sourceObjectId": "", "sourceDataVersion": "", "template_fields": None}


def _from_template(state: PlanfixState, task: dict[str, Any], template: dict[str, Any]) -> None:
    """Creating from a template starts from its name, process, people, fields and checklist."""
    for key in ("name", "description", "processId", "priority", "duration", "durationUnit", "durationType"):
        task[key] = template[key]
    for key in PEOPLE:
        task[key] = {"users": list(template[key]["users"]), "groups": list(template[key]["groups"])}
    task["custom"] = dict(template["custom"])
    task["status"] = template["status"]
    task["template_fields"] = template.get("template_fields")
    task["checklist"] = [{"name": item["name"], "done": False, "assignees": item.get("assignees")}
                         for item in template["checklist"]]


def create_task(state: PlanfixState, body: dict[str, Any], actor: str, silent: bool = False,
                kind: str = "Task", task_id: int | None = None) -> dict[str, Any]:
    """`POST /task/`: build, validate, store, fire `task_created`. Raises ApiError on bad input."""
    task = blank_task(state, kind)
    task["assigner"] = actor if actor.startswith(("user:", "contact:")) else None
    if body.get("template"):
        template = state.tasks.get(_ref_id(body["template"]))
        if template is None or template["type"] != "Template":
            raise bad_value(f"Template not found by id {_ref_id(body['template'])}")
        _from_template(state, task, template)
    _, status_id = apply_changes(state, task, body, creating=True)
    status = state.status_for(status_id, task["processId"]) if status_id is not None else None
    if status is None:
        process = state.processes.get(task["processId"])
        if task["status"] is None or (process and task["status"] not in process["statuses"]):
            task["status"] = process["statuses"][0] if process and process["statuses"] else None
    else:
        task["status"] = status["id"]
    task["id"] = task_id if task_id is not None else state.next_id("task")
    for item in task["checklist"]:
        item.update(id=state.next_id("checklist"), dateTime=state.now())
    state.tasks[task["id"]] = task
    if kind == "Task" and not silent and state.scenarios:
        state.scenarios.fire("task_created", task=task, actor=actor)
    return task


def update_task(state: PlanfixState, task: dict[str, Any], body: dict[str, Any], actor: str,
                silent: bool = False) -> list[dict[str, str]]:
    """`POST /task/{id}`: partial update; returns the `failures` list."""
    old_status = task["status"]
    failures, status_id = apply_changes(state, task, body, creating=False)
    process = state.processes.get(task["processId"])
    if status_id is not None:
        task["status"] = state.status_for(status_id, task["processId"])["id"]
    elif process and task["status"] not in process["statuses"] and process["statuses"]:
        task["status"] = process["statuses"][0]
    task["dateOfLastUpdate"] = state.now()
    changed_status = task["status"] != old_status
    if changed_status:
        active = state.statuses[task["status"]].get("isActive", True)
        task["actualCompletionDate"] = None if active else When(state.now())
        if not silent:
            from .comments import status_entry

            status_entry(state, task, actor, old_status)
    if not silent and state.scenarios:
        state.scenarios.fire("task_changed", task=task, actor=actor)
        if changed_status:
            state.scenarios.fire("status_changed", task=task, actor=actor, old_status=old_status)
    return failures

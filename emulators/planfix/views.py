"""Wire shapes of tasks, comments, contacts, employees and data-tag entries, with `fields=`.

Planfix returns only what `fields` names (system names and/or numeric custom-field ids), plus
`id`; without `fields` only `id` comes back (inference: every documented call passes `fields`).
Absent values (no parent, no deadline) are left out rather than sent as null.
"""
from __future__ import annotations

from typing import Any, Callable

from .state import PlanfixState
from .values import render

Getter = Callable[[PlanfixState, dict[str, Any]], Any]


def parse_fields(raw: Any) -> tuple[list[str], list[int]]:
    """`"id,name,101"` -> (["id","name"], [101]); a list of names works too."""
    items = raw if isinstance(raw, list) else str(raw or "").split(",")
    names, ids = [], []
    for item in (str(i).strip() for i in items):
        if item.isdigit():
            ids.append(int(item))
        elif item:
            names.append(item)
    return names, ids


def _status(state: PlanfixState, status_id: int | None) -> dict[str, Any] | None:
    status = state.statuses.get(status_id) if status_id is not None else None
    if status is None:
        return None
    return {k: status[k] for k in ("id", "name", "color", "isActive", "hasDeadline", "isAppliedIndividually", "texts")}


def _ident(key: str) -> Getter:
    return lambda s, o: {"id": o[key]} if o.get(key) else None


def _overdue(state: PlanfixState, task: dict[str, Any]) -> bool:
    end = task.get("endDateTime")
    active = (state.statuses.get(task["status"]) or {}).get("isActive", True)
    return bool(end and active and end.at < state.now())


def _close(state: PlanfixState, task: dict[str, Any]) -> bool:
    end = task.get("endDateTime")
    active = (state.statuses.get(task["status"]) or {}).get("isActive", True)
    return bool(end and active and 0 <= (end.at - state.now()).total_seconds() <= 86_400)


def _files(state: PlanfixState, ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": i, "size": state.files[i]["size"], "name": state.files[i]["name"]} for i in ids if i in state.files]


def _tags(state: PlanfixState, keys: list[int]) -> list[dict[str, Any]]:
    out = []
    for key in keys:
        entry = state.entries.get(key)
        if entry:
            tag = state.data_tags[entry["dataTag"]]
            out.append({"dataTag": {"id": tag["id"], "name": tag["name"]}, "key": key})
    return out


def _task_tags(state: PlanfixState, task: dict[str, Any]) -> list[dict[str, Any]]:
    return _tags(state, sorted(k for k, e in state.entries.items() if e["task"] == task["id"]))


TASK: dict[str, Getter] = {
    **{k: (lambda key: lambda s, t: t[key])(k) for k in (
        "id", "name", "description", "priority", "processId", "resultChecking", "type", "hasStartDate", "hasEndDate",
        "duration", "durationUnit", "durationType", "inFavorites", "isSummary", "isSequential", "isDeleted",
        "sourceObjectId", "sourceDataVersion")},
    "status": lambda s, t: _status(s, t["status"]),
    "assigner": lambda s, t: s.person_block(t["assigner"]),
    "counterparty": lambda s, t: s.person_block(t["counterparty"]),
    "parent": _ident("parent"), "object": _ident("object"), "template": _ident("template"),
    "project": _ident("project"),
    **{k: (lambda key: lambda s, t: s.dates.point(t[key]))(k) for k in (
        "dateTime", "startDateTime", "endDateTime", "delayedTillDate", "actualCompletionDate", "dateOfLastUpdate")},
    "hasStartTime": lambda s, t: bool(t["startDateTime"] and t["startDateTime"].has_time),
    "hasEndTime": lambda s, t: bool(t["endDateTime"] and t["endDateTime"].has_time),
    "overdue": _overdue, "closeToDeadLine": _close, "notAcceptedInTime": lambda s, t: False,
    **{k: (lambda key: lambda s, t: s.people_block(t[key]))(k) for k in ("assignees", "participants", "auditors")},
    "recurrence": lambda s, t: None,
    "files": lambda s, t: _files(s, t["files"]),
    "dataTags": _task_tags,
}

COMMENT: dict[str, Getter] = {
    **{k: (lambda key: lambda s, c: c[key])(k) for k in (
        "id", "type", "fromType", "description", "isDeleted", "isPinned", "isHidden", "sourceObjectId",
        "sourceDataVersion")},
    "dateTime": lambda s, c: s.dates.point(c["dateTime"]),
    "task": _ident("task"),
    "contact": lambda s, c: s.person_block(f"contact:{c['contact']}") if c["contact"] else None,
    "project": lambda s, c: ({"id": s.tasks[c["task"]]["project"]}
                             if c["task"] and s.tasks[c["task"]]["project"] else None),
    "owner": lambda s, c: s.person_block(c["owner"]),
    "isNotRead": lambda s, c: False,
    "recipients": lambda s, c: s.people_block(c["recipients"]),
    "reminders": lambda s, c: [], "dataTags": lambda s, c: _tags(s, c["dataTags"]),
    "files": lambda s, c: _files(s, c["files"]),
    "changeStatus": lambda s, c: c.get("changeStatus"),
    "changeTaskStartDate": lambda s, c: None, "changeTaskExpectDate": lambda s, c: None,
}

_CONTACT_PLAIN = ("id", "name", "midname", "lastname", "gender", "description", "address", "site", "email",
                  "additionalEmailAddresses", "skype", "telegramId", "telegram", "facebook", "instagram", "vk",
                  "position", "isCompany", "isDeleted", "sourceObjectId", "sourceDataVersion")
CONTACT: dict[str, Getter] = {
    **{k: (lambda key: lambda s, c: c.get(key))(k) for k in _CONTACT_PLAIN},
    "template": _ident("template"),
    "group": lambda s, c: ({"id": c["group"], "name": s.groups.get(c["group"], {}).get("name")}
                           if c.get("group") else None),
    "birthDate": lambda s, c: s.dates.point(c.get("birthDate")),
    "createdDate": lambda s, c: s.dates.point(c.get("createdDate")),
    "dateOfLastUpdate": lambda s, c: s.dates.point(c.get("dateOfLastUpdate")),
    "supervisors": lambda s, c: s.people_block(c.get("supervisors") or {}),
    "phones": lambda s, c: [{"number": p["number"], "maskedNumber": masked(p["number"]), "type": p["type"]}
                            for p in c.get("phones", [])],
    "companies": lambda s, c: [{"id": i, "name": s.person_name(f"contact:{i}")} for i in c.get("companies", [])],
    "contacts": lambda s, c: [{"id": i, "name": s.person_name(f"contact:{i}")} for i in c.get("contacts", [])],
    "files": lambda s, c: _files(s, c.get("files", [])),
    "dataTags": lambda s, c: _tags(s, sorted(k for k, e in s.entries.items() if e["contact"] == c["id"])),
}

USER: dict[str, Getter] = {
    **{k: (lambda key: lambda s, u: u.get(key))(k) for k in (
        "id", "name", "midname", "lastname", "gender", "isDeleted", "role", "login", "email", "secondaryEmails",
        "telegramId", "telegram", "status", "languageCode", "sourceObjectId", "sourceDataVersion")},
    "birthDate": lambda s, u: s.dates.point(u.get("birthDate")),
    "groups": lambda s, u: [{"id": g, "name": s.groups[g]["name"]} for g in u.get("groups", []) if g in s.groups],
    "phones": lambda s, u: [{"number": p["number"], "maskedNumber": masked(p["number"]), "type": p["type"]}
                            for p in u.get("phones", [])],
    "position": lambda s, u: u.get("position"),
}


def masked(number: str) -> str:
    """The spec's `maskedNumber`: 89643752416 -> +8 (964) 375-24-16."""
    digits = "".join(ch for ch in str(number) if ch.isdigit())
    if len(digits) != 11:
        return str(number)
    return f"+{digits[0]} ({digits[1:4]}) {digits[4:7]}-{digits[7:9]}-{digits[9:11]}"


def custom_data(state: PlanfixState, obj: dict[str, Any], ids: list[int], object_type: int) -> list[dict[str, Any]]:
    out = []
    for fid in ids:
        field = state.fields.get(fid)
        if field is None or field["objectType"] != object_type:
            continue
        out.append({"field": field_head(field), "value": render(field, obj["custom"].get(fid), state)})
    return out


def field_head(field: dict[str, Any]) -> dict[str, Any]:
    head = {k: field[k] for k in ("id", "name", "type", "objectType")}
    for extra in ("directoryId", "enumValues"):
        if field.get(extra) is not None:
            head[extra] = field[extra]
    return head


def select(state: PlanfixState, obj: dict[str, Any], getters: dict[str, Getter], fields: Any,
           object_type: int | None = None) -> dict[str, Any]:
    """The object with only the requested fields (always `id`), custom fields last."""
    names, ids = parse_fields(fields)
    out: dict[str, Any] = {"id": obj["id"]}
    for name in names:
        getter = getters.get(name)
        if getter is not None and name != "id":
            value = getter(state, obj)
            if value is not None:
                out[name] = value
    if ids and object_type is not None:
        out["customFieldData"] = custom_data(state, obj, ids, object_type)
    return out


def dump_state(state: PlanfixState) -> dict[str, Any]:
    """Everything, fully expanded, for `/_emulator/state`."""
    def all_of(obj: dict[str, Any], getters: dict[str, Getter], otype: int) -> dict[str, Any]:
        custom_ids = sorted(fid for fid, f in state.fields.items() if f["objectType"] == otype)
        return select(state, obj, getters, ",".join(getters), otype) | (
            {"customFieldData": custom_data(state, obj, custom_ids, otype)} if custom_ids else {})

    return {"tasks": [all_of(t, TASK, 0) | {"checklist": t["checklist"] and [
                {"id": i["id"], "name": i["name"], "done": i["done"]} for i in t["checklist"]]}
                      for t in state.tasks.values()],
            "comments": [select(state, c, COMMENT, ",".join(COMMENT)) for c in state.comments.values()],
            "contacts": [all_of(c, CONTACT, 1) for c in state.contacts.values()],
            "users": [all_of(u, USER, 6) for u in state.users.values()],
            "dataTagEntries": [{"key": e["key"], "dataTag": e["dataTag"], "commentId": e["commentId"],
                                "task": e["task"],
                                "contact": e["contact"]} for e in state.entries.values()],
            "files": [{"id": f["id"], "name": f["name"], "size": f["size"]} for f in state.files.values()],
            "deferred": len(state.deferred)}

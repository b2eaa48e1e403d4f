"""tasks.task.*: tasks linked to CRM items through UF_CRM_TASK (["D_10", "CO_5"]).

Answers are `{"task": {...}}` with camelCase keys and string values, as the task REST module
prints them; errors are `ERROR_CORE` texts ending in "<br>", as the real module leaves them.
"""
from __future__ import annotations

import uuid
from typing import Any

from ..errors import RestError
from ..php import as_list
from ..query import build_filter, paginate, sort_records
from ..schema import FieldDef
from ..timeutil import iso, parse_datetime
from .crm import as_map
from . import Call, Reply, php_intval, rest

# storage name → (type, default); printed as camelCase of the name
_FIELDS: dict[str, tuple[str, Any]] = {
    "ID": ("integer", None), "PARENT_ID": ("integer", None), "TITLE": ("string", ""), "DESCRIPTION": ("string", ""),
    "MARK": ("string", None), "PRIORITY": ("integer", 1), "MULTITASK": ("string", "N"), "NOT_VIEWED": ("string", "N"),
    "REPLICATE": ("string", "N"), "STAGE_ID": ("integer", 0), "CREATED_BY": ("integer", None),
    "CREATED_DATE": ("datetime", None), "RESPONSIBLE_ID": ("integer", None), "CHANGED_BY": ("integer", None),
    "CHANGED_DATE": ("datetime", None), "STATUS_CHANGED_BY": ("integer", None), "CLOSED_BY": ("integer", None),
    "CLOSED_DATE": ("datetime", None), "ACTIVITY_DATE": ("datetime", None), "DATE_START": ("datetime", None),
    "DEADLINE": ("datetime", None), "START_DATE_PLAN": ("datetime", None), "END_DATE_PLAN": ("datetime", None),
    "GUID": ("string", None), "XML_ID": ("string", None), "COMMENTS_COUNT": ("integer", None),
    "ALLOW_CHANGE_DEADLINE": ("string", "N"), "ALLOW_TIME_TRACKING": ("string", "N"), "TASK_CONTROL": ("string", "N"),
    "ADD_IN_REPORT": ("string", "N"), "TIME_ESTIMATE": ("integer", 0), "MATCH_WORK_TIME": ("string", "N"),
    "SITE_ID": ("string", "s1"), "STATUS": ("integer", 2), "STATUS_CHANGED_DATE": ("datetime", None),
    "DURATION_PLAN": ("integer", None), "DURATION_TYPE": ("string", "days"), "FAVORITE": ("string", "N"),
    "GROUP_ID": ("integer", 0), "AUDITORS": ("list", []), "ACCOMPLICES": ("list", []), "UF_CRM_TASK": ("list", []),
}
_WRITABLE = {"PARENT_ID", "TITLE", "DESCRIPTION", "MARK", "PRIORITY", "MULTITASK", "REPLICATE", "STAGE_ID",
             "RESPONSIBLE_ID", "DATE_START", "DEADLINE", "START_DATE_PLAN", "END_DATE_PLAN", "XML_ID",
             "ALLOW_CHANGE_DEADLINE", "ALLOW_TIME_TRACKING", "TASK_CONTROL", "ADD_IN_REPORT", "TIME_ESTIMATE",
             "MATCH_WORK_TIME", "STATUS", "DURATION_PLAN", "DURATION_TYPE", "GROUP_ID", "AUDITORS", "ACCOMPLICES",
             "UF_CRM_TASK", "CREATED_BY"}
_DEFS = {n: FieldDef(n, {"list": "string"}.get(t, t), multiple=t == "list") for n, (t, _) in _FIELDS.items()}


def _camel(name: str) -> str:
    head, *rest_ = name.lower().split("_")
    return head + "".join(p.capitalize() for p in rest_)


def _core(text: str) -> RestError:
    return RestError(400, "ERROR_CORE", f"{text}<br>")


def _convert(call: Call, fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        name = str(name).upper()
        if name not in _WRITABLE:
            continue
        ftype = _FIELDS[name][0]
        if ftype == "datetime":
            out[name] = parse_datetime(value, call.portal.tz)
        elif ftype == "integer":
            out[name] = None if value in (None, "") else php_intval(value)
        elif ftype == "list":
            out[name] = [str(v) for v in as_list(value) if v not in (None, "")]
        else:
            out[name] = "" if value is None else str(value)
    if "STATUS" in out and out["STATUS"] not in range(1, 8):
        raise _core("Invalid status")
    if out.get("RESPONSIBLE_ID") is not None and out["RESPONSIBLE_ID"] not in call.portal.store.users:
        raise _core('User specified in the "Assignee" field not found')
    return out


def _user(call: Call, uid: Any) -> dict[str, Any]:
    user = call.portal.store.users.get(uid) or {}
    name = " ".join(x for x in (user.get("NAME"), user.get("LAST_NAME")) if x)
    return {"id": str(uid), "name": name, "link": f"/company/personal/user/{uid}/", "icon": "", "workPosition": ""}


def print_task(call: Call, task: dict[str, Any], with_uf: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (ftype, _) in _FIELDS.items():
        if name == "UF_CRM_TASK" and not with_uf:
            continue
        value = task.get(name)
        if ftype == "datetime":
            out[_camel(name)] = iso(value, call.portal.tz) if value else None
        elif ftype == "list":
            out[_camel(name)] = list(value or [])
        else:
            out[_camel(name)] = None if value is None else str(value)
    out["creator"], out["responsible"] = _user(call, task.get("CREATED_BY")), _user(call, task.get("RESPONSIBLE_ID"))
    return out


def _fire(call: Call, action: str, tid: int) -> None:
    data: dict[str, Any] = {"FIELDS_BEFORE": {"ID": tid}}
    if action != "DELETE":
        data.update({"FIELDS_AFTER": {"ID": tid}, "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"})
    call.portal.fire(f"ONTASK{action}", data)


def _task_id(call: Call) -> int:
    tid = php_intval(call.params.get("taskId", call.params.get("TASKID", call.params.get("id", 0))))
    if call.portal.store.get("TASK", tid) is None:
        raise _core("Task not found or not accessible")
    return tid


def _fields(call: Call) -> dict[str, Any]:
    fields = call.params.get("fields")
    if not isinstance(fields, (dict, list)) or not fields:
        raise RestError(400, "100", "Could not find value for parameter {fields}")
    return as_map(fields)


@rest("tasks.task.add", scope="task")
def task_add(call: Call) -> dict:
    values = _convert(call, _fields(call))
    if not values.get("TITLE"):
        raise _core("Task title not specified")
    if values.get("RESPONSIBLE_ID") is None:
        raise _core("Assignee not specified")
    now, user = call.portal.now(), call.portal.config.webhook_user_id
    task = {n: (list(d) if isinstance(d, list) else d) for n, (_, d) in _FIELDS.items()}
    task.update({"CREATED_BY": user, "CHANGED_BY": user, "CREATED_DATE": now, "CHANGED_DATE": now,
                 "ACTIVITY_DATE": now, "STATUS_CHANGED_DATE": now, "GUID": "{" + str(uuid.uuid4()) + "}"})
    task.update(values)
    tid = call.portal.store.insert("TASK", task)
    _fire(call, "ADD", tid)
    return {"task": print_task(call, call.portal.store.get("TASK", tid))}


@rest("tasks.task.update", scope="task")
def task_update(call: Call) -> dict:
    tid = _task_id(call)
    values = _convert(call, _fields(call))
    now, user = call.portal.now(), call.portal.config.webhook_user_id
    old = call.portal.store.get("TASK", tid) or {}
    values.update({"CHANGED_BY": user, "CHANGED_DATE": now, "ACTIVITY_DATE": now})
    if "STATUS" in values and values["STATUS"] != old.get("STATUS"):
        values.update({"STATUS_CHANGED_BY": user, "STATUS_CHANGED_DATE": now})
        values.update({"CLOSED_BY": user, "CLOSED_DATE": now} if values["STATUS"] == 5 else
                      {"CLOSED_BY": None, "CLOSED_DATE": None})
    call.portal.store.update("TASK", tid, values)
    _fire(call, "UPDATE", tid)
    return {"task": print_task(call, call.portal.store.get("TASK", tid))}


def _wants_uf(select: list[str]) -> bool:
    return any(s.upper() in ("UF_*", "UF_CRM_TASK") for s in select)


@rest("tasks.task.get", scope="task")
def task_get(call: Call) -> dict:
    select = [str(s) for s in as_list(call.params.get("select"))]
    return {"task": print_task(call, call.portal.store.get("TASK", _task_id(call)), _wants_uf(select))}


@rest("tasks.task.delete", scope="task")
def task_delete(call: Call) -> dict:
    tid = _task_id(call)
    call.portal.store.delete("TASK", tid)
    _fire(call, "DELETE", tid)
    return {"task": True}


@rest("tasks.task.list", scope="task")
def task_list(call: Call) -> Reply:
    resolve = lambda n: (_DEFS[n.upper()], n.upper()) if n.upper() in _DEFS else None  # noqa: E731
    check = build_filter(as_map(call.params.get("filter") or {}), resolve, call.portal.tz)
    order = as_map(call.params.get("order") or {}) or {"ID": "ASC"}
    rows = sort_records([t for t in call.portal.store.all("TASK") if check(t)], order, resolve)
    page = paginate(rows, call.start, engine=True)
    select = [str(s) for s in as_list(call.params.get("select"))]
    return Reply({"tasks": [print_task(call, t, _wants_uf(select)) for t in page.rows]}, page.total, page.next)

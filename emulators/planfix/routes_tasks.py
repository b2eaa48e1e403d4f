"""`/task/...`: get, create, update (incl. 202-queued), list with filters, checklist, files.

REST addresses a task by its number (the `id`); templates live in the same number space with
`type: "Template"` and are left out of `/task/list`, as are checklist items and deleted tasks.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .errors import ApiError, bad_value
from .filters import CUSTOM_BASES, TASK_FILTERS, matches
from .http import body, fields_arg, ok, page, route, silent
from .state import PlanfixState
from .tasks import create_task, update_task
from .views import TASK, _files, select

bp = Blueprint("planfix_tasks", __name__)

SAVED_FILTERS = [{"id": ":all", "name": "All"}, {"id": ":in", "name": "Incoming"}, {"id": ":out", "name": "Outgoing"},
                 {"id": ":audit", "name": "Audited"}]


def _task_id(raw: str) -> int:
    if not raw.isdigit():
        raise ApiError(400, 0, "Rest API error")
    return int(raw)


@route(bp, "/task/<raw_id>", ["GET"], "task_readonly")
def get_task(st: PlanfixState, actor: str, raw_id: str) -> Response:
    task = st.task(_task_id(raw_id), status=400)
    return ok(task=select(st, task, TASK, fields_arg(), 0))


@route(bp, "/task/", ["POST"], "task_add")
def create(st: PlanfixState, actor: str) -> Response:
    task = create_task(st, body(), actor, silent=silent())
    return ok(201, id=task["id"])


@route(bp, "/task/<raw_id>", ["POST"], "task_update")
def update(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    task = st.task(_task_id(raw_id), status=404, for_update=True)
    if st.knobs.defer_updates > 0:
        # Planfix: "the task is being changed in parallel; the change is queued" -> 202, applied later.
        st.knobs = st.knobs.model_copy(update={"defer_updates": st.knobs.defer_updates - 1})
        st.deferred.append({"due": st.clock.now() + st.knobs.defer_seconds, "task": task["id"], "body": data,
                            "actor": actor, "silent": silent()})
        return Response(status=202)
    failures = update_task(st, task, data, actor, silent=silent())
    return ok(failures=failures) if failures else ok()


def apply_deferred(st: PlanfixState) -> None:
    """Run 202-queued updates whose time has come (called before each API request)."""
    with st.lock:
        now = st.clock.now()
        due = [d for d in st.deferred if d["due"] <= now]
        st.deferred = [d for d in st.deferred if d["due"] > now]
        for item in due:
            task = st.tasks.get(item["task"])
            if task is not None:
                try:
                    update_task(st, task, item["body"], item["actor"], silent=item["silent"])
                except ApiError:
                    pass  # Planfix would log it in the task's technical log; nobody is waiting for an answer


def visible_tasks(st: PlanfixState, data: dict[str, Any], actor: str) -> list[dict[str, Any]]:
    tasks = [t for t in st.tasks.values() if t["type"] == "Task" and not t["isDeleted"]]
    saved = str(data.get("filterId") or ":all")
    if saved == ":in":
        tasks = [t for t in tasks if actor in t["assignees"]["users"]]
    elif saved == ":out":
        tasks = [t for t in tasks if t["assigner"] == actor]
    elif saved == ":audit":
        tasks = [t for t in tasks if actor in t["auditors"]["users"]]
    elif saved not in (":all", "all"):
        raise bad_value(f"Filter not found by id {saved}")
    filters = data.get("filters")
    base = CUSTOM_BASES["task"]
    return [t for t in sorted(tasks, key=lambda t: t["id"]) if matches(st, t, filters, TASK_FILTERS, base)]


@route(bp, "/task/list", ["POST"], "task_readonly")
def task_list(st: PlanfixState, actor: str) -> Response:
    data = body()
    tasks = page(visible_tasks(st, data, actor), data)
    return ok(tasks=[select(st, t, TASK, fields_arg(data), 0) for t in tasks])


@route(bp, "/task/filters", ["POST"], "task_readonly")
def task_filters(st: PlanfixState, actor: str) -> Response:
    return ok(filters=SAVED_FILTERS)


@route(bp, "/task/templates", ["GET"], "task_readonly")
def templates(st: PlanfixState, actor: str) -> Response:
    items = sorted((t for t in st.tasks.values() if t["type"] == "Template"), key=lambda t: t["id"])
    return ok(templates=[select(st, t, TASK, fields_arg(), 0) for t in page(items, dict(request.args))])


@route(bp, "/task/<raw_id>/checklist/list", ["POST"], "task_readonly")
def checklist(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    task = st.task(_task_id(raw_id), status=400)
    process = st.processes.get(task["processId"]) or {"statuses": []}
    open_id = process["statuses"][0] if process["statuses"] else None
    done_id = next((s for s in process["statuses"] if not st.statuses[s].get("isActive", True)), open_id)
    items = []
    for item in page(task["checklist"], data):
        status = st.statuses.get(done_id if item["done"] else open_id) or {}
        full = {"id": item["id"], "name": item["name"], "status": {"id": status.get("id"), "name": status.get("name")},
                "parent": {"id": task["id"]}, "dateTime": st.dates.point(item["dateTime"]),
                "assignees": st.people_block(item.get("assignees") or {})}
        wanted = [f for f in str(fields_arg(data) or "").split(",") if f.strip()]
        items.append({k: v for k, v in full.items() if k == "id" or not wanted or k in wanted})
    return ok(items=items)


@route(bp, "/task/<raw_id>/files", ["GET"], "file_readonly")
def task_files(st: PlanfixState, actor: str, raw_id: str) -> Response:
    task = st.task(_task_id(raw_id), status=400)
    ids = list(task["files"])
    if str(request.args.get("onlyFromDescription", "")).lower() != "true":
        for comment in sorted(st.comments.values(), key=lambda c: c["id"]):
            if comment["task"] == task["id"] and not comment["isDeleted"]:
                ids += [i for i in comment["files"] if i not in ids]
    return ok(files=_files(st, ids))

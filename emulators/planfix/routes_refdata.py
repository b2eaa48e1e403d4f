"""Account reference data: processes and their statuses, custom-field definitions, data tags, ping.

Status ids are account data, not constants: a relay resolves "In work" / "Completed" by name
through `GET /process/task/{id}/statuses`, so the seed numbers them like a real account would.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .errors import ApiError
from .http import body, fields_arg, ok, page, route
from .routes_comments import tag_head
from .state import PlanfixState
from .values import TYPE_NAMES

bp = Blueprint("planfix_refdata", __name__)


def _only(item: dict[str, Any], fields: Any, always: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    wanted = [f.strip() for f in str(fields or "").split(",") if f.strip()]
    return {k: v for k, v in item.items() if not wanted or k in wanted or k in always}


@route(bp, "/ping", ["GET"])
def ping(st: PlanfixState, actor: str) -> Response:
    return ok()


@route(bp, "/process/task", ["GET"])
def task_processes(st: PlanfixState, actor: str) -> Response:
    processes = sorted(st.processes.values(), key=lambda p: p["id"])
    return ok(processes=[{"id": p["id"], "name": p["name"]} for p in processes])


@route(bp, "/process/task/<int:process_id>/statuses", ["GET"])
def process_statuses(st: PlanfixState, actor: str, process_id: int) -> Response:
    process = st.processes.get(process_id)
    if process is None:
        raise ApiError(400, 0, "Rest API error")
    return ok(statuses=[_only(dict(st.statuses[s]), fields_arg()) for s in process["statuses"]])


@route(bp, "/process/contact", ["GET"])
def contact_processes(st: PlanfixState, actor: str) -> Response:
    return ok(processes=[])


@route(bp, "/customfield/type", ["GET"])
def field_types(st: PlanfixState, actor: str) -> Response:
    return ok(customFieldTypes=[{"id": i, "name": n} for i, n in TYPE_NAMES.items()])


def _definitions(st: PlanfixState, kind: str, only: list[int] | None = None) -> list[dict[str, Any]]:
    out = []
    for fid, field in sorted(st.object_fields(kind).items()):
        if only is None or fid in only:
            keys = ("id", "name", "names", "type", "objectType", "groupId")
            item = {k: field[k] for k in keys if field.get(k) is not None}
            item.update({k: field[k] for k in ("directoryId", "enumValues") if field.get(k) is not None})
            out.append(_only(item, fields_arg()))
    return out


@route(bp, "/customfield/task", ["GET"])
def task_fields(st: PlanfixState, actor: str) -> Response:
    return ok(customfields=_definitions(st, "task"))


@route(bp, "/customfield/task/<int:template_id>", ["GET"])
def template_fields(st: PlanfixState, actor: str, template_id: int) -> Response:
    template = st.tasks.get(template_id)
    if template is None or template["type"] != "Template":
        raise ApiError(500, 0, "Rest API error")
    return ok(customfields=_definitions(st, "task", template.get("template_fields")))


@route(bp, "/customfield/contact", ["GET"])
def contact_fields(st: PlanfixState, actor: str) -> Response:
    return ok(customfields=_definitions(st, "contact"))


@route(bp, "/customfield/user", ["GET"])
def user_fields(st: PlanfixState, actor: str) -> Response:
    return ok(customfields=_definitions(st, "user"))


@route(bp, "/customfield/datatag/<int:tag_id>", ["GET"])
def datatag_fields(st: PlanfixState, actor: str, tag_id: int) -> Response:
    if tag_id not in st.data_tags:
        raise ApiError(500, 0, "Rest API error")
    return ok(customfields=[f for f in _definitions(st, "datatag") if f["id"] in st.data_tags[tag_id]["fields"]])


@route(bp, "/datatag/<int:tag_id>", ["GET"], "datatag_readonly")
def get_data_tag(st: PlanfixState, actor: str, tag_id: int) -> Response:
    if tag_id not in st.data_tags:
        raise ApiError(404, 6000, f"Data tag not found by id {tag_id}")
    return ok(dataTag=_only(tag_head(st, tag_id), fields_arg()))


@route(bp, "/datatag/list", ["POST"], "datatag_readonly")
def list_data_tags(st: PlanfixState, actor: str) -> Response:
    data = body()
    tags = [_only(tag_head(st, t), fields_arg(data)) for t in sorted(st.data_tags)]
    return ok(dataTags=page(tags, data))


@route(bp, "/project/<int:project_id>", ["GET"])
def get_project(st: PlanfixState, actor: str, project_id: int) -> Response:
    project = st.projects.get(project_id)
    if project is None:
        raise ApiError(404, 3000, f"Project not found by id {project_id}")
    view = {"id": project["id"], "name": project["name"], "counterparty": st.person_block(project.get("counterparty"))}
    return ok(project=_only({k: v for k, v in view.items() if v is not None}, fields_arg()))

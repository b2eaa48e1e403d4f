"""`/file/...`: multipart upload, metadata, download (a 302 to a storage URL), attach, delete.

Upload answers 200 (not 201) per the spec. The download `Location` points at this emulator's
`/_storage/...`, outside `/rest`, so fetching the bytes costs no API request, as with Planfix's
own file host.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from flask import Blueprint, Response, abort, request

from .errors import ApiError, file_not_found
from .http import body, fields_arg, ok, route
from .state import PlanfixState

bp = Blueprint("planfix_files", __name__)
storage = Blueprint("planfix_storage", __name__)


def store_file(st: PlanfixState, name: str, data: bytes, content_type: str) -> dict[str, Any]:
    item = {"id": st.next_id("file"), "name": name, "size": len(data), "data": data,
            "content_type": content_type or "application/octet-stream"}
    st.files[item["id"]] = item
    return item


def _file(st: PlanfixState, raw: str) -> dict[str, Any]:
    if not raw.isdigit() or int(raw) not in st.files:
        raise file_not_found(raw)
    return st.files[int(raw)]


@route(bp, "/file/", ["POST"], "file_add")
def upload(st: PlanfixState, actor: str) -> Response:
    part = request.files.get("file")
    if part is None:
        raise ApiError(400, 7001, "Rest API error upload file")
    data = part.read()
    return ok(id=store_file(st, part.filename or "file", data, part.mimetype)["id"])


@route(bp, "/file/from-url/", ["POST"], "file_add")
def upload_from_url(st: PlanfixState, actor: str) -> Response:
    data = body()
    try:
        answer = requests.get(str(data["url"]), timeout=10)
        answer.raise_for_status()
    except (KeyError, requests.RequestException) as exc:
        raise ApiError(400, 7002, "Rest API error") from exc
    name = str(data.get("name") or data["url"].rstrip("/").rsplit("/", 1)[-1] or "file")
    return ok(id=store_file(st, name, answer.content, answer.headers.get("Content-Type", ""))["id"])


@route(bp, "/file/<raw_id>", ["GET"], "file_readonly")
def get_file(st: PlanfixState, actor: str, raw_id: str) -> Response:
    item = _file(st, raw_id)
    meta = {"id": item["id"], "size": item["size"], "name": item["name"]}
    wanted = [f.strip() for f in str(fields_arg() or "").split(",") if f.strip()]
    return ok(file={k: v for k, v in meta.items() if not wanted or k == "id" or k in wanted})


@route(bp, "/file/<raw_id>", ["POST"], "file_add")
def rename_file(st: PlanfixState, actor: str, raw_id: str) -> Response:
    data = body()
    item = _file(st, raw_id)
    if data.get("name"):
        item["name"] = str(data["name"])
    return ok()


@route(bp, "/file/<raw_id>", ["DELETE"], "file_delete")
def delete_file(st: PlanfixState, actor: str, raw_id: str) -> Response:
    item = _file(st, raw_id)
    del st.files[item["id"]]
    for holder in [*st.tasks.values(), *st.contacts.values(), *st.comments.values()]:
        if item["id"] in holder.get("files", []):
            holder["files"].remove(item["id"])
    return ok()


@route(bp, "/file/<raw_id>/download", ["GET"], "file_readonly")
def download(st: PlanfixState, actor: str, raw_id: str) -> Response:
    if not raw_id.isdigit() or int(raw_id) not in st.files:
        raise ApiError(400, 7000, "File not found by id")
    location = f"{request.host_url.rstrip('/')}/_storage/{raw_id}/{st.files[int(raw_id)]['name']}"
    return Response(status=302, headers={"Location": location})


@route(bp, "/file/<raw_id>/attach/<kind>", ["POST"], "file_add")
def attach(st: PlanfixState, actor: str, raw_id: str, kind: str) -> Response:
    item = _file(st, raw_id)
    target_id = request.args.get("id", "")
    tables = {"task": st.tasks, "contact": st.contacts, "project": st.projects}
    if kind not in tables:
        raise ApiError(404, 0, "Rest API error")
    target = tables[kind].get(int(target_id)) if target_id.isdigit() else None
    if target is None:
        raise ApiError(400, 6, f"Access denied for {kind} by id - {target_id}")
    files = target.setdefault("files", [])
    if item["id"] not in files:
        files.append(item["id"])
    return ok()


@storage.get("/_storage/<int:file_id>/<path:name>")
def stored_bytes(file_id: int, name: str) -> Response:
    """The file host behind `download`'s redirect; no token needed, as with a signed link."""
    from .http import state

    item = state().files.get(file_id)
    if item is None:
        abort(404)
    return Response(item["data"], mimetype=item["content_type"],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(item['name'])}"})

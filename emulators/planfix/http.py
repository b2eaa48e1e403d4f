"""HTTP plumbing shared by the REST route modules: the route decorator, bodies, envelopes.

Each route declares the token scope it needs (Planfix's `task_readonly`, `comment_add`, …); the
decorator holds the account lock for the whole handler, so a handler reads and writes one
consistent account, and gives it the calling token's user as the acting person.
"""
from __future__ import annotations

import json
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, current_app, g, request

from .errors import ApiError, invalid_json
from .state import PlanfixState

PAGE_MAX = 100


def state() -> PlanfixState:
    return current_app.extensions["planfix"]


def route(bp: Blueprint, rule: str, methods: list[str], scope: str | None = None) -> Callable[..., Any]:
    """Register `fn(st, actor, **path_args)` under `rule`, tagged with its scope."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def view(**kwargs: Any) -> Any:
            st = state()
            with st.lock:
                return fn(st, g.get("actor", "user:1"), **kwargs)

        view.scope = scope  # type: ignore[attr-defined]
        bp.add_url_rule(rule, endpoint=f"{fn.__name__}_{'_'.join(methods).lower()}", view_func=view, methods=methods)
        return fn
    return decorate


def body() -> dict[str, Any]:
    """The JSON object body; empty means `{}`; anything else is Planfix's code 30."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    status = 500 if request.path.endswith("/list") else 400
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_json(str(exc), status) from exc
    if not isinstance(data, dict):
        raise invalid_json("an object is expected", status)
    return data


def ok(status: int = 200, **payload: Any) -> Response:
    return json_response({"result": "success", **payload}, status)


def json_response(payload: Any, status: int = 200) -> Response:
    text = json.dumps(payload, ensure_ascii=False)
    return Response(text, status=status, mimetype="application/json")


def fail(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status)


def silent() -> bool:
    return str(request.args.get("silent", "")).lower() == "true"


def page(items: list[Any], data: dict[str, Any]) -> list[Any]:
    """`offset`/`pageSize`; a pageSize over 100 is silently cut to 100, as Planfix does."""
    try:
        offset = max(0, int(data.get("offset") or 0))
        size = int(data.get("pageSize") or PAGE_MAX)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, 41, "Invalid offset or pageSize") from exc
    size = min(max(size, 1), PAGE_MAX)
    return items[offset:offset + size]


def fields_arg(data: dict[str, Any] | None = None) -> Any:
    """`fields` from the JSON body (list calls) or the query string (GET)."""
    if data is not None and "fields" in data:
        return data["fields"]
    return request.args.get("fields", "")

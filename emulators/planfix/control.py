"""`/_emulator/...`: what a test (or a person at the keyboard) does around the REST API.

Never rate-limited, faulted, counted or authenticated. Besides reset/state/counters/knobs, it
holds the scenario set-up (rules, "press the button", the delivery log) and "UI" actions: a PM
changing a status or writing a comment in Planfix's own interface, which fire scenarios like
REST changes do but cost no API request.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError

from emulators.common.clock import steer

from .clock import ManualClock
from .comments import add_comment
from .errors import ApiError
from .http import json_response, state
from .knobs import Knobs
from .scenarios import Rule
from .tasks import create_task, update_task

bp = Blueprint("planfix_control", __name__, url_prefix="/_emulator")


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _invalid(exc: ValidationError) -> Response:
    return json_response({"error": exc.errors(include_url=False, include_context=False)}, 400)


@bp.post("/reset")
def reset() -> Response:
    st = state()
    with st.lock:
        st.load()
        st.knobs = st.initial_knobs.model_copy(update={"rate_limit": st.knobs.rate_limit})
        current_app.extensions["planfix_limiter"].reset()
        st.dispatcher.reset()
    return json_response({"reset": True})


@bp.get("/state")
def dump() -> Response:
    return json_response(state().dump())


@bp.route("/requests", methods=["GET", "DELETE"])
def requests_seen() -> Response:
    st = state()
    with st.lock:
        if request.method == "DELETE":
            st.requests.clear()
        return json_response({"total": sum(st.requests.values()), "by_route": dict(st.requests)})


@bp.route("/knobs", methods=["GET", "POST"])
def knobs() -> Response:
    st = state()
    if request.method == "POST":
        try:
            st.knobs = Knobs.model_validate({**st.knobs.model_dump(), **_json()})
        except ValidationError as exc:
            return _invalid(exc)
        st.dispatcher.wake()
    return json_response(st.knobs.model_dump())


@bp.route("/ratelimit", methods=["GET", "POST"])
def ratelimit() -> Response:
    """The benchmark switch: `{"enabled": true}` turns on 1 req/s (other limit knobs accepted too)."""
    st = state()
    limiter = current_app.extensions["planfix_limiter"]
    if request.method == "POST":
        data = _json()
        if "enabled" in data:
            data["rate_limit"] = bool(data.pop("enabled"))
        allowed = {"rate_limit", "min_interval", "daily_limit", "enforce_daily", "limit_status"}
        try:
            chosen = {k: v for k, v in data.items() if k in allowed}
            st.knobs = Knobs.model_validate({**st.knobs.model_dump(), **chosen})
        except ValidationError as exc:
            return _invalid(exc)
    k = st.knobs
    return json_response({"enabled": k.rate_limit, "min_interval": k.min_interval, "daily_limit": k.daily_limit,
                          "enforce_daily": k.enforce_daily, "limit_status": k.limit_status,
                          "remaining": limiter.remaining()})


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    st = state()
    data = _json() if request.method == "POST" else {}
    if data and not isinstance(st.clock, ManualClock):
        return json_response({"error": "the emulator runs on the system clock"}, 409)
    answer = steer(st.clock, data)
    st.dispatcher.wake()
    return json_response(answer)


@bp.post("/tokens")
def add_token() -> Response:
    """Another API token, e.g. one limited to `["task_readonly"]` scopes."""
    st, data = state(), _json()
    user = str(data.get("user", "user:1"))
    with st.lock:
        st.tokens[str(data["token"])] = {"user": user if ":" in user else f"user:{user}", "scopes": data.get("scopes")}
    return json_response({"ok": True})


# -- scenarios --------------------------------------------------------------------------------
@bp.route("/scenarios", methods=["GET", "POST", "PUT"])
def scenarios() -> Response:
    """GET lists rules; POST adds one (replacing a rule of the same name); PUT replaces them all."""
    st = state()
    try:
        if request.method == "POST":
            rule = Rule.model_validate(_json()).model_dump()
            with st.lock:
                st.scenario_rules = [r for r in st.scenario_rules if r["name"] != rule["name"]] + [rule]
        elif request.method == "PUT":
            rules = [Rule.model_validate(r).model_dump() for r in (request.get_json(silent=True) or [])]
            with st.lock:
                st.scenario_rules = rules
    except ValidationError as exc:
        return _invalid(exc)
    with st.lock:
        return json_response({"scenarios": list(st.scenario_rules)})


@bp.delete("/scenarios/<path:name>")
def delete_scenario(name: str) -> Response:
    st = state()
    with st.lock:
        st.scenario_rules = [r for r in st.scenario_rules if r["name"] != name]
        return json_response({"scenarios": list(st.scenario_rules)})


@bp.post("/scenarios/run")
def run_scenario() -> Response:
    """A PM presses the button: `{"name": "send brief", "task": 1003, "user": "user:2"}`."""
    st, data = state(), _json()
    with st.lock:
        task = st.tasks.get(int(data.get("task", 0)))
        user = str(data.get("user", "user:1"))
        if task is None or st.person(user) is None:
            return json_response({"error": "unknown task or user"}, 404)
        if not any(r["name"] == data.get("name") and r["event"] == "button" for r in st.scenario_rules):
            return json_response({"error": f"no button scenario named {data.get('name')!r}"}, 404)
        queued = st.scenarios.fire("button", task=task, actor=user, only=str(data["name"]))
    return json_response({"queued": queued})


@bp.get("/deliveries")
def deliveries() -> Response:
    st = state()
    return json_response({"deliveries": st.dispatcher.log(), "queue": st.dispatcher.status()})


@bp.post("/deliveries/wait")
def wait_deliveries() -> Response:
    """Block until no scenario request is due or in flight (retries scheduled later don't count)."""
    st = state()
    idle = st.dispatcher.wait_idle(float(_json().get("timeout", 5)))
    return json_response({"idle": idle, "deliveries": st.dispatcher.log()})


# -- a person working in Planfix's UI ------------------------------------------------------------
def _ui(fn: Any) -> Response:
    st = state()
    try:
        with st.lock:
            return json_response(fn(st))
    except ApiError as exc:
        return json_response(exc.body(), exc.status)


@bp.post("/ui/tasks")
def ui_create_task() -> Response:
    data = _json()
    return _ui(lambda st: {"id": create_task(st, {k: v for k, v in data.items() if k != "user"},
                                             str(data.get("user", "user:1")))["id"]})


@bp.post("/ui/tasks/<int:task_id>")
def ui_update_task(task_id: int) -> Response:
    data = _json()
    change = {k: v for k, v in data.items() if k != "user"}
    return _ui(lambda st: {"failures": update_task(st, st.task(task_id, 404), change, str(data.get("user", "user:1")))})


@bp.post("/ui/tasks/<int:task_id>/comments")
def ui_comment(task_id: int) -> Response:
    data = _json()
    user = str(data.get("user", "user:1"))
    comment = {"owner": {"id": user}, **{k: v for k, v in data.items() if k != "user"}}
    return _ui(lambda st: {"id": add_comment(st, comment, user, task=st.task(task_id, 404), from_type="Planfix")["id"]})

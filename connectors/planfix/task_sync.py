"""`planfix_sync_task`: the Planfix task of an outside object (a Bitrix24 deal, say), created once from a
mapping and kept in step with it afterwards.

```yaml
mappings:
  deal_task:
    fields:                                  # written when the task is created
      name: "{{ deal.TITLE }}"
      description: "…{{ deal.ID }}…"
      assignees: "{{ deal.ASSIGNED_BY_ID }}" # people: user:5 / contact:7 / group:3, or a key of values.users
      template: "20"                          # also: auditors, participants, project, parent, deadline
      Сделка Bitrix24: "{{ deal.ID }}"        # any other key: a task custom field (name or id)
    values:
      users: {"2": "user:2", "3": "user:3"}  # the other system's user id → a Planfix person
      default_user: user:1                    # for users not in the list (absent: the event fails, naming the user)
```

The object is the event's entity (`link`, e.g. `bitrix24:deal:5`). Its task is remembered in Links
(kind `planfix.task`: object → task number; `Links.keys_for` gives the object of a task). Before
creating, the action looks for the task: in Links, then by `link_field` (a task custom field holding
the object's id), so a task made by hand, or created before a crash, is adopted instead of doubled.
Creation is once per object and rule, ever. A task the relay has not read before is stored as its
baseline, so the task's first status change reads as a change (not as a new task) and Planfix's
"task created" request for it is no news. Later calls write the `update_fields` whose value
differs, remembered as the relay's own writes, so their echo is no news either.

Later actions of the rule see `planfix_task`: `id`, `url`, `name`, `status`, `created` (true if this
call created it).
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from connectors.planfix.actions_fields import ECHO_SAFE
from connectors.planfix.catalog import FieldDef, find_field
from connectors.planfix.model import snapshot
from connectors.planfix.source import task_key
from connectors.planfix.targets import connector
from connectors.planfix.values import ValueProblem, date_object, local_iso, plain, write_shape
from relay.actions.context import ActionContext, Halt
from relay.actions.params import MappingName, Params
from relay.changes import canonical
from relay.engine.model import Mapping
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr
from relay.tooling.vocabulary import adds_to_context

LINKS = "planfix.task"
PEOPLE = ("assignees", "auditors", "participants")
IDS = ("project", "template", "parent")
_REF = re.compile(r"^(user|contact|group):\d+$")
adds_to_context("planfix_sync_task", "planfix_task")


class SyncTaskParams(Params):
    mapping: MappingName = Field(description="mapping: `fields` (task field → template; docs/bridge.md), `values.users`, "
                                             "`values.default_user`")
    link: TemplateStr = Field("", description="the object the task belongs to, e.g. `bitrix24:deal:{{ id }}`; default: the event's entity")
    link_field: str | None = Field(None, description="a key of the mapping's `fields`: the task custom field holding the object's id; "
                                                     "a task with that value is adopted instead of creating another")
    create: bool = Field(True, description="create the task if the object has none (false: only update a linked task)")
    update_fields: list[str] = Field(default_factory=list, description="keys of the mapping's `fields` written again whenever "
                                                                       "they differ from the task: name, description, deadline, "
                                                                       "people, custom fields (not project, template, parent)")


@action("planfix_sync_task", SyncTaskParams)
def planfix_sync_task(ctx: ActionContext, p: SyncTaskParams) -> Halt | None:
    """Create the Planfix task of an outside object (a deal) once, from a mapping with a user map, linked both ways; later, write the listed fields that differ. Later actions see `planfix_task`."""
    pf = connector(ctx)
    mapping = ctx.mapping(p.mapping)
    link = str(ctx.render(p.link)).strip() or ctx.event.entity_key
    for key in [*p.update_fields, *([p.link_field] if p.link_field else [])]:
        if key not in mapping.fields:
            raise PermanentError(f"mapping {p.mapping!r} has no field {key!r} (it has: {', '.join(mapping.fields)})")
    fixed = sorted(set(p.update_fields) & set(IDS))
    if fixed:
        raise PermanentError(f"update_fields: {', '.join(fixed)} can only be set when the task is created")
    wanted = {key: str(ctx.render(template)).strip() for key, template in mapping.fields.items()}
    number = _linked(ctx, link)
    created = False
    if number is None:
        if not p.create:
            return Halt(f"{link} has no Planfix task (create: false)")
        body = _body(ctx, mapping, wanted)  # before any write: a user missing from the map stops the event here
        outcome = ctx.effect(lambda: _create(ctx, body), lambda: _find(ctx, link, p.link_field, wanted),
                             suffix="create", scope="entity", look_first=True, target=link, describe={"create": body})
        if outcome.external_id is None:  # a dry run
            ctx.context["planfix_task"] = {"id": None, "url": None, "name": wanted.get("name"), "status": None, "created": True}
            return None
        number, created = int(outcome.external_id), outcome.fresh
        ctx.runtime.links.set(LINKS, link, str(number))
    task = pf.read_task(number)
    if task is None:
        return Halt(f"Planfix task {number} of {link} no longer exists; not created again")
    if ctx.runtime.snapshots.get(task_key(number)) is None:
        ctx.runtime.snapshots.observe(task_key(number), snapshot(task))  # the baseline: its first status change is a change
    if not created and p.update_fields:
        _update(ctx, mapping, task, {k: wanted[k] for k in p.update_fields})
    ctx.trace("planfix.task", f"{link} → Planfix task {number} ({task['status']})" + (", created" if created else ""))
    ctx.context["planfix_task"] = {"id": number, "url": task["url"], "name": task["name"], "status": task["status"], "created": created}
    return None


def _linked(ctx: ActionContext, link: str) -> int | None:
    known = ctx.runtime.links.get(LINKS, link)
    return int(known) if known and known.isdigit() else None


def _find(ctx: ActionContext, link: str, link_field: str | None, wanted: dict[str, str]) -> str | None:
    """The object's task if one exists already: remembered in Links, or carrying its id in `link_field`."""
    known = _linked(ctx, link)
    if known is not None:
        return str(known)
    if not link_field or not wanted.get(link_field):
        return None
    pf = connector(ctx)
    field = pf.catalog.task_field(link_field)
    rows = pf.client.list_all("/task/list", {"fields": "id", "filters": [
        {"type": 101 + field.type if field.type <= 17 else 101, "field": field.id, "operator": "equal", "value": wanted[link_field]}]},
        "tasks", limit=100)
    return str(min(int(r["id"]) for r in rows)) if rows else None


def _create(ctx: ActionContext, body: dict[str, Any]) -> str:
    answer = connector(ctx).client.post("/task/", body).body
    if not str(answer.get("id", "")).isdigit():
        raise PermanentError(f"Planfix created a task but sent no number: {answer}")
    return str(answer["id"])


def _body(ctx: ActionContext, mapping: Mapping, wanted: dict[str, str]) -> dict[str, Any]:
    pf = connector(ctx)
    body: dict[str, Any] = {}
    custom: list[dict[str, Any]] = []
    for key, value in wanted.items():
        if key in ("name", "description"):
            body[key] = value
        elif key in PEOPLE:
            people = [_person(mapping, item) for item in re.split(r"[,;]", value) if item.strip()]
            if people:
                body[key] = {"users": [{"id": ref} for ref in dict.fromkeys(people)]}
        elif key in IDS:
            if value:
                if not value.isdigit():
                    raise PermanentError(f"mapping field {key!r}: {value!r} is not a number")
                body[key] = {"id": int(value)}
        elif key == "deadline":
            if value:
                try:
                    body["endDateTime"] = date_object(value[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", value) else value, pf.zone, with_time=False)
                except ValueProblem as exc:
                    raise PermanentError(f"mapping field 'deadline': {exc}") from None
        else:
            shaped = _custom(ctx, key, value)
            if shaped is not None:
                custom.append({"field": {"id": shaped[0].id}, "value": shaped[1]})
    if not body.get("name"):
        raise PermanentError("the task's `name` renders empty (the mapping needs fields.name)")
    if custom:
        body["customFieldData"] = custom
    return body


def _person(mapping: Mapping, item: str) -> str:
    """`user:5` as written, else the other system's user id looked up in `values.users`."""
    text = item.strip()
    if _REF.match(text):
        return text
    users = {str(k): str(v) for k, v in (mapping.values.get("users") or {}).items()}
    found = users.get(text) or str(mapping.values.get("default_user") or "")
    if not _REF.match(found):
        raise PermanentError(f"user {text!r} has no Planfix person: add it under values.users of the mapping in {mapping.file} "
                             "(e.g. \"7\": user:5), or set values.default_user")
    return found


def _custom(ctx: ActionContext, key: str, value: str) -> tuple[FieldDef, Any] | None:
    pf = connector(ctx)
    field = find_field(pf.catalog.task_fields(), key, "Planfix (task custom fields)")
    if not value and field.type not in (0, 2, 8):
        return None  # no value for a number, date or person: leave it out rather than guess
    try:
        return field, write_shape(field.type, value, pf.zone)
    except ValueProblem as exc:
        raise PermanentError(f"Planfix task field {field.id} {field.name!r}: {exc}") from None


def _update(ctx: ActionContext, mapping: Mapping, task: dict[str, Any], wanted: dict[str, str]) -> None:
    """Write the fields whose value differs from the task's, as the relay's own writes."""
    pf = connector(ctx)
    body = _body(ctx, mapping, {"name": task["name"], **wanted})
    changes: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for key in ("name", "description"):
        if key in wanted and body.get(key, "") != task[key]:
            changes[key] = own[key] = body.get(key, "")
    if "deadline" in wanted and "endDateTime" in body and local_iso(body["endDateTime"]["date"]) != task["end"]:
        changes["endDateTime"] = body["endDateTime"]
    people_now = {"assignees": task["assignee_ids"], "auditors": [p["id"] for p in task["auditors"]],
                  "participants": [p["id"] for p in task["participants"]]}
    for key in (k for k in PEOPLE if k in wanted):
        ids = [u["id"] for u in body.get(key, {}).get("users", [])]
        if sorted(ids) != sorted(people_now[key]):
            changes[key] = {"users": [{"id": i} for i in ids]}
            if key == "assignees":
                own["assignees"] = sorted(ids)
    custom = []
    for item in body.get("customFieldData", []):
        field = pf.catalog.task_fields()[item["field"]["id"]]
        echo = _echo(field, item["value"])
        if canonical(echo) != canonical(task["field_ids"].get(field.id)):
            custom.append(item)
            if field.type in ECHO_SAFE:
                own[field.name] = echo
    if custom:
        changes["customFieldData"] = custom
    if not changes:
        ctx.trace("no-op", f"Planfix task {task['id']} already shows these values")
        return

    def do() -> str:
        pf.update_task(int(task["id"]), changes, own)
        return str(task["id"])

    ctx.effect(do, suffix="update", target=task_key(task["id"]), describe={"task": task["id"], "update": changes})


def _echo(field: FieldDef, value: Any) -> Any:
    """The value the task reads back for what was written (dates come back as ISO days)."""
    if field.type == 3 and isinstance(value, dict):
        return local_iso(value["date"])
    if field.type in (5, 28):
        return local_iso(str(value))
    return plain(field.type, value)

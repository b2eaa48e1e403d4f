"""S9: a project's standard set of tasks, created from a template kept in a mapping.

```yaml
mappings:
  project_tasks:
    values:
      tasks:
        - name: "{{ task.name }}: бриф"       # templates over the triggering task
          template: 22                        # Planfix task template: process, fields, checklist
          assignee: "{{ task.assigner.id }}"  # user:5 (or several, comma-separated)
          auditor: user:2
          deadline: 2 working days            # or 3d, or a date (template)
```

Each task is created at most once per triggering task and rule, ever: before creating, the action
looks for a subtask of the parent with the same name (it may predate the relay, or come from a
run interrupted by a crash).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.planfix.actions_fields import shaped
from connectors.planfix.targets import connector, require_task
from connectors.planfix.values import ValueProblem, as_moment, date_object, person_ref
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError
from relay.registry import action
from relay.store import utcnow
from relay.templating import TemplateStr
from relay.timers import due_at, parse_duration


class TaskTemplate(BaseModel):
    """One task of the set (an item of the mapping's `values.tasks`)."""

    model_config = ConfigDict(extra="forbid")

    name: TemplateStr
    template: int | None = Field(None, description="Planfix task template id")
    description: TemplateStr = ""
    assignee: TemplateStr = ""
    auditor: TemplateStr = ""
    participant: TemplateStr = ""
    deadline: TemplateStr = Field("", description="`3 working days`, `5d`, `12h`, or a date/time")
    fields: dict[str, TemplateStr] = Field(default_factory=dict, description="custom field (name or id) → value")


def task_templates(ctx: ActionContext, mapping: str) -> list[TaskTemplate]:
    """The mapping's task list, checked; a mistake names the mapping, the item and the key."""
    found = ctx.mapping(mapping)
    raw = found.values.get("tasks")
    if not isinstance(raw, list) or not raw:
        raise PermanentError(f"mapping {mapping!r} ({found.file}) needs `values.tasks`: a list of tasks")
    items = []
    for i, item in enumerate(raw):
        try:
            items.append(TaskTemplate.model_validate(item))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PermanentError(f"mapping {mapping!r} ({found.file}), values.tasks[{i}].{where}: {first['msg']}") from None
    return items


class CreateTasksParams(Params):
    mapping: MappingName = Field(description="mapping whose `values.tasks` lists the tasks (name, template, assignee, auditor, "
                                             "participant, deadline, description, fields)")
    parent: TemplateStr = Field("{{ task.id }}", description="the new tasks' parent task (default: the triggering task)")
    project: TemplateStr = Field("{{ task.project_id or '' }}", description="project id (default: the triggering task's project)")
    start: TemplateStr = Field("{{ task.created or '' }}", description="deadlines count from this moment (default: when the "
                                                                      "triggering task was created; empty: now)")


@action("planfix_create_tasks", CreateTasksParams)
def planfix_create_tasks(ctx: ActionContext, p: CreateTasksParams) -> None:
    """Create a project's standard task set from a mapping (names, template with checklist, assignee, auditor, deadline in working days) — each task once per parent."""
    pf = connector(ctx)
    parent = require_task(ctx, p.parent)
    project = str(ctx.render(p.project)).strip()
    start_text = str(ctx.render(p.start)).strip()
    start = as_moment(start_text, pf.zone) if start_text else utcnow().astimezone(pf.zone)
    for index, item in enumerate(task_templates(ctx, p.mapping)):
        body = _body(ctx, item, parent, project, start)

        def find(name: str = body["name"]) -> str | None:
            rows = pf.client.list_all("/task/list", {"fields": "id,name", "filters": [
                {"type": 73, "operator": "equal", "value": parent}]}, "tasks", limit=500)
            return next((str(r["id"]) for r in rows if str(r.get("name", "")).strip() == name.strip()), None)

        def do(body: dict[str, Any] = body) -> str:
            return str(pf.client.post("/task/", body).body.get("id"))

        outcome = ctx.effect(do, find, suffix=str(index), scope="entity", look_first=True,
                             target=f"planfix:task:{parent}", describe={"create": body})
        ctx.trace("planfix.task-set", f"task {index + 1}: {body['name']!r} → {outcome.external_id} ({outcome.how})")


def _body(ctx: ActionContext, item: TaskTemplate, parent: int, project: str, start: datetime) -> dict[str, Any]:
    pf = connector(ctx)
    body: dict[str, Any] = {"name": str(ctx.render(item.name)).strip(), "parent": {"id": parent}}
    if not body["name"]:
        raise PermanentError("a task of the set renders an empty name")
    if project.isdigit():
        body["project"] = {"id": int(project)}
    if item.template is not None:
        body["template"] = {"id": item.template}
    if item.description:
        body["description"] = str(ctx.render(item.description))
    for key, value in (("assignees", item.assignee), ("auditors", item.auditor), ("participants", item.participant)):
        people = [v.strip() for v in str(ctx.render(value)).replace(";", ",").split(",") if v.strip()]
        if people:
            try:
                body[key] = {"users": [{"id": person_ref(v)} for v in people]}
            except ValueProblem as exc:
                raise PermanentError(f"task {body['name']!r}, {key}: {exc}") from None
    deadline = str(ctx.render(item.deadline)).strip()
    if deadline:
        body["endDateTime"] = _deadline(ctx, deadline, body["name"], start)
    if item.fields:
        values = shaped(ctx, pf.catalog.task_fields(), item.fields, f"task {body['name']!r}")
        body["customFieldData"] = [{"field": {"id": f.id}, "value": v} for f, v in values]
    return body


def _deadline(ctx: ActionContext, text: str, name: str, start: datetime) -> dict[str, str]:
    """`3 working days` (weekends and holidays skipped), `5d`, `12h` from `start`, or a date."""
    pf = connector(ctx)
    try:
        _, unit = parse_duration(text)
    except ValueError:
        try:
            return date_object(text, pf.zone, with_time=len(text) > 10)
        except ValueProblem as exc:
            raise PermanentError(f"task {name!r}, deadline: {exc} (or write e.g. '3 working days')") from None
    moment = due_at(start, text, ctx.runtime.calendar)
    return date_object(moment, pf.zone, with_time=unit in ("s", "m", "h"))

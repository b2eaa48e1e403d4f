"""Writing values: task custom fields (`planfix_set_fields`) and data-tag entries (`planfix_data_tag`).

Fields are named by id or by name; each value (usually rendered template text) is turned into the
write shape of the field's type, so a rule writes `Менеджер проекта: user:2` or `Дата оплаты:
2024-05-31` and Planfix gets `{"id": "user:2"}` / `{"date": "31-05-2024"}`. A value that does not
fit its field is a PermanentError naming the field.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.planfix.catalog import FieldDef, find_field
from connectors.planfix.targets import connector, require_task
from connectors.planfix.values import ValueProblem, local_iso, plain, write_shape
from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

# Types whose read-back equals what was written, so the echo of a write can be recognised.
ECHO_SAFE = {0, 1, 2, 3, 5, 7, 8, 10, 11, 12, 13, 28}


def shaped(ctx: ActionContext, fields: dict[int, FieldDef], values: dict[str, str], where: str) -> list[tuple[FieldDef, Any]]:
    """(field, write value) for each `name or id: template`; an empty value of a non-text field is left out."""
    pf = connector(ctx)
    out = []
    for ref, template in values.items():
        field = find_field(fields, ref, where)
        value = ctx.render(template)
        if isinstance(value, str) and not value.strip() and field.type not in (0, 2, 8):
            continue  # "no value" for a date, number or person: leave the field out rather than guess
        try:
            out.append((field, write_shape(field.type, value, pf.zone)))
        except ValueProblem as exc:
            raise PermanentError(f"{where}, field {field.id} {field.name!r}: {exc}") from None
    return out


def _echo(field: FieldDef, value: Any) -> Any:
    """The value the task will read back (for own-write detection), from the written value."""
    if field.type == 3:
        return local_iso(value["date"])
    if field.type in (5, 28):
        return local_iso(value)
    return plain(field.type, value)


class SetFieldsParams(Params):
    task: TemplateStr | None = Field(None, description="task number or `planfix:task:N`; default: the event's task")
    fields: dict[str, TemplateStr] = Field(min_length=1, description="custom field (name or id) → value (template); people as `user:5`, "
                                                                     "dates as 2024-05-31, directory entries and tasks by id")
    trigger_rules: bool = Field(False, description="treat the new values as news for rules (false: their echo is ignored)")
    silent: bool = Field(False, description="Planfix's silent mode: no notifications, no history, no scenarios")


@action("planfix_set_fields", SetFieldsParams)
def planfix_set_fields(ctx: ActionContext, p: SetFieldsParams) -> None:
    """Write custom fields of a Planfix task, each in the value shape its type needs, once per rule and event."""
    pf = connector(ctx)
    number = require_task(ctx, p.task)
    values = shaped(ctx, pf.catalog.task_fields(), p.fields, "Planfix task fields")
    body = {"customFieldData": [{"field": {"id": f.id}, "value": v} for f, v in values]}
    own = None if p.trigger_rules else {f.name: _echo(f, v) for f, v in values if f.type in ECHO_SAFE}

    def do() -> str:
        reply = pf.update_task(number, body, own, silent=p.silent)
        if reply.queued:
            ctx.trace("planfix.queued", f"Planfix queued the change of task {number} (202); it applies shortly")
        return str(number)

    ctx.effect(do, target=f"planfix:task:{number}", describe={"task": number, **body})


class DataTagParams(Params):
    task: TemplateStr | None = Field(None, description="task number or `planfix:task:N`; default: the event's task")
    data_tag: str = Field(description="data tag (\"analytics\") id or name, e.g. `Учет времени`")
    values: dict[str, TemplateStr] = Field(min_length=1, description="data-tag field (name or id) → value (template)")
    update_by: str | None = Field(None, description="a field of the data tag: an entry of this tag on the task with the same value "
                                                    "there is updated instead of adding another (one running total per task)")


@action("planfix_data_tag", DataTagParams)
def planfix_data_tag(ctx: ActionContext, p: DataTagParams) -> None:
    """Add a data-tag entry ("analytics", e.g. time worked) to a Planfix task, or update the one found by `update_by`."""
    pf = connector(ctx)
    number = require_task(ctx, p.task)
    tag_id, tag_name, fields = pf.catalog.data_tag(p.data_tag)
    values = shaped(ctx, fields, p.values, f"Planfix data tag {tag_name!r}")
    data = [{"field": {"id": f.id}, "value": v} for f, v in values]
    wanted = {f.id: _echo(f, v) for f, v in values}
    key_field = find_field(fields, p.update_by, f"Planfix data tag {tag_name!r}") if p.update_by else None

    def entries() -> list[dict[str, Any]]:
        rows = pf.client.list_all(f"/datatag/{tag_id}/entry/list", {"taskId": number, "fields": ",".join(str(i) for i in fields)},
                                  "dataTagEntries")
        return [{"key": r["key"], "values": {int(c["field"]["id"]): _read(fields, c) for c in r.get("customFieldData") or []}} for r in rows]

    def do() -> str:
        if key_field is not None:
            same = [e for e in entries() if str(e["values"].get(key_field.id)) == str(wanted.get(key_field.id))]
            if same:
                pf.client.post(f"/datatag/entry/{same[0]['key']}", {"customFieldData": data})
                ctx.trace("planfix.data-tag", f"updated entry {same[0]['key']} of {tag_name!r} on task {number}")
                return str(same[0]["key"])
        answer = pf.client.post(f"/task/{number}/datatags/", {"dataTag": {"id": tag_id}, "items": [{"customFieldData": data}]}).body
        return str((answer.get("keys") or [""])[0])

    def find() -> str | None:
        match = [e for e in entries() if all(str(e["values"].get(k)) == str(v) for k, v in wanted.items())]
        return str(match[0]["key"]) if match else None

    ctx.effect(do, find, target=f"planfix:task:{number}", describe={"task": number, "data_tag": tag_id, "values": data})


def _read(fields: dict[int, FieldDef], item: dict[str, Any]) -> Any:
    field = fields.get(int(item["field"]["id"]))
    value = plain(field.type if field else 0, item.get("value"))
    return value

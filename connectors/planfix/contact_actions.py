"""Writing contact custom fields (`planfix_contact_fields`), e.g. a client's brief answers.

Values come from the rule (`fields`: name or id → template) and/or from a dict another connector
put into the event's context (`values_from: form.values`, a Google Form's converted answers); each is
turned into the write shape of its field's type, as for task fields. A value from the context that
does not fit its field is traced and skipped, so one odd answer does not hold back the others.
"""
from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from pydantic import Field

from connectors.planfix.catalog import FieldDef, find_field
from connectors.planfix.targets import connector
from connectors.planfix.values import ValueProblem, write_shape
from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

if TYPE_CHECKING:
    from connectors.planfix.connector import PlanfixConnector

WHERE = "Planfix contact custom fields"
_fields: "weakref.WeakKeyDictionary[PlanfixConnector, dict[int, FieldDef]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def contact_fields(pf: "PlanfixConnector") -> dict[int, FieldDef]:
    """The account's contact fields, read once per connector (ids and types are account data)."""
    with _lock:
        if pf not in _fields:
            rows = pf.client.get("/customfield/contact").get("customfields") or []
            _fields[pf] = {int(r["id"]): FieldDef(int(r["id"]), str(r.get("name") or ""), int(r.get("type") or 0)) for r in rows if "id" in r}
        return _fields[pf]


def _contact_id(text: str) -> int:
    value = text.strip().removeprefix("contact:")
    if not value.isdigit():
        raise PermanentError(f"contact {text!r} is not a Planfix contact (write 11 or contact:11)")
    return int(value)


def _from_context(ctx: ActionContext, name: str) -> dict[str, Any]:
    value: Any = ctx.context
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PermanentError(f"values_from: {name!r} is a {type(value).__name__}, not a dict of field → value")
    return value


class ContactFieldsParams(Params):
    contact: TemplateStr = Field(description="contact id, e.g. `{{ form.contact }}` (11 or contact:11)")
    fields: dict[str, TemplateStr] = Field(default_factory=dict, description="custom field (name or id) → value (template)")
    values_from: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$",
                                    description="a name in the event's context holding field (name or id) → value, e.g. `form.values`")


@action("planfix_contact_fields", ContactFieldsParams)
def planfix_contact_fields(ctx: ActionContext, p: ContactFieldsParams) -> None:
    """Write custom fields of a Planfix contact, each in the value shape its type needs, once per rule and event."""
    pf = connector(ctx)
    contact = _contact_id(str(ctx.render(p.contact)))
    known = contact_fields(pf)
    data: list[dict[str, Any]] = []
    for ref, template in p.fields.items():
        field = find_field(known, ref, WHERE)
        try:
            data.append({"field": {"id": field.id}, "value": write_shape(field.type, ctx.render(template), pf.zone)})
        except ValueProblem as exc:
            raise PermanentError(f"{WHERE}, field {field.id} {field.name!r}: {exc}") from None
    if p.values_from:
        for ref, value in _from_context(ctx, p.values_from).items():
            field = find_field(known, ref, WHERE)
            try:
                data.append({"field": {"id": field.id}, "value": write_shape(field.type, value, pf.zone)})
            except ValueProblem as exc:
                ctx.trace("planfix.contact", f"contact {contact}, field {field.id} {field.name!r}: {exc}; not written")
    if not data:
        ctx.trace("planfix.contact", f"nothing to write to contact {contact}")
        return
    body = {"customFieldData": data}

    def do() -> str:
        failures = pf.client.post(f"/contact/{contact}", body).body.get("failures") or []
        if failures:
            shown = "; ".join(f"{f.get('field')}: {f.get('error')}" for f in failures if isinstance(f, dict))
            raise PermanentError(f"Planfix did not change contact {contact}: {shown}")
        return f"contact:{contact}"

    ctx.effect(do, target=f"planfix:contact:{contact}", describe={"contact": contact, **body})

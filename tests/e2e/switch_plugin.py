"""A test-only action whose failure an admin can "fix": while BROKEN it fails permanently (the event
goes to dead letters), afterwards it writes an effect targeting an entity, so a retry from the UI
really succeeds and the "why" page has a write to explain."""
from __future__ import annotations

from pydantic import Field

from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.effects import Written
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

BROKEN = {"on": False}


class SetFieldParams(Params):
    target: TemplateStr = Field(description="entity key written to, e.g. bitrix24:deal:{{ payload.deal }}")
    value: TemplateStr = Field("", description="the value written")


@action("e2e_set_field", SetFieldParams)
def set_field(ctx: ActionContext, p: SetFieldParams) -> None:
    """Pretend to write a CRM field, once per event (a real effect row with a target)."""
    if BROKEN["on"]:
        raise PermanentError("the CRM refused the field (test switch is on)")
    target, value = ctx.render(p.target), ctx.render(p.value)
    ctx.effect(lambda: Written(external_id=f"{target}#{value}", data={"field": "STAGE_ID", "value": value}),
               target=target, describe={"value": value})

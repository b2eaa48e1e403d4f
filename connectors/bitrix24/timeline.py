"""`bitrix24_timeline_comment`: one comment in the timeline of a deal (company, contact, lead).

Written once per rule, event and action. A comment carries no id of the relay's own, so after a crash
between writing and recording, the retry looks for a comment with exactly this text on the entity,
added since the event arrived, before writing again. An entity that no longer exists is skipped
(traced): news about a deleted deal has nowhere to go, and retrying cannot change that.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError
from relay.registry import action
from relay.templating import TemplateStr

CLOCK_SKEW = timedelta(minutes=5)  # the portal's clock and the relay's may differ a little


class TimelineCommentParams(Params):
    entity: Literal["deal", "company", "contact", "lead"] = Field("deal", description="what the comment is on")
    id: TemplateStr = Field("{{ id }}", description="its id (template), e.g. `{{ task.fields['Сделка Bitrix24'] }}`; "
                                                    "default: the entity the event is about; empty: nothing is written")
    text: TemplateStr | None = Field(None, description="comment text (BB-code; template)")
    mapping: MappingName | None = Field(None, description="instead of `text`: a mapping whose `templates` hold the text")
    template: str | None = Field(None, description="with `mapping`: the template's name")

    @model_validator(mode="after")
    def _one_text(self) -> "TimelineCommentParams":
        if (self.text is None) == (self.mapping is None) or (self.mapping is None) != (self.template is None):
            raise ValueError("give exactly one of `text` or `mapping` + `template`")
        return self


def _text(ctx: ActionContext, p: TimelineCommentParams) -> str:
    if p.text is not None:
        return str(ctx.render(p.text)).strip()
    templates = ctx.mapping(str(p.mapping)).templates
    if p.template not in templates:
        raise PermanentError(f"mapping {p.mapping!r} has no template {p.template!r} (has: {', '.join(sorted(templates)) or 'none'})")
    return str(ctx.render(templates[str(p.template)])).strip()


@action("bitrix24_timeline_comment", TimelineCommentParams)
def bitrix24_timeline_comment(ctx: ActionContext, p: TimelineCommentParams) -> None:
    """Add a comment to the timeline of a deal, company, contact or lead, once per rule and event."""
    b24 = ctx.connector("bitrix24")
    entity_id = str(ctx.render(p.id)).strip()
    if not entity_id:
        ctx.trace("skip", f"no {p.entity} id: no timeline comment written")
        return
    if not entity_id.isdigit():
        raise PermanentError(f"{p.entity} id {entity_id!r} is not a number")
    text = _text(ctx, p)
    if not text:
        raise PermanentError("the timeline comment renders empty")
    if b24.read(p.entity, entity_id) is None:
        ctx.trace("skip", f"{p.entity} {entity_id} no longer exists: no timeline comment written")
        return
    since = ctx.event.received_at - CLOCK_SKEW

    def do() -> str:
        return str(b24.client.call("crm.timeline.comment.add", {"fields": {"ENTITY_ID": entity_id, "ENTITY_TYPE": p.entity,
                                                                           "COMMENT": text}}))

    def find() -> str | None:
        rows = b24.client.call("crm.timeline.comment.list", {"filter": {"ENTITY_ID": entity_id, "ENTITY_TYPE": p.entity},
                                                             "select": ["ID", "CREATED", "COMMENT"]}) or []
        return next((str(r["ID"]) for r in rows if isinstance(r, dict) and str(r.get("COMMENT", "")).strip() == text
                     and _after(r.get("CREATED"), since)), None)

    ctx.effect(do, find, target=f"bitrix24:{p.entity}:{entity_id}", describe={"timeline": f"{p.entity} {entity_id}", "comment": text})


def _after(created: Any, since: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(str(created))
    except ValueError:
        return False
    return moment.tzinfo is not None and moment >= since

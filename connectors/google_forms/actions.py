"""Actions of the forms connector: build a pre-filled link, send an unmatched submission to the
review list, and apply the admin's decision on it."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from connectors.google_forms.source import KIND
from relay.actions.context import ActionContext, Halt
from relay.actions.params import Params
from relay.errors import PermanentError
from relay.intake.base import IncomingEvent
from relay.registry import action
from relay.templating import TemplateStr

if TYPE_CHECKING:
    from connectors.google_forms.connector import FormsConnector

REVIEW_KIND = "form"


def _forms(ctx: ActionContext) -> "FormsConnector":
    return ctx.connector("forms")


def _digits(text: str, what: str) -> str:
    value = text.strip().lstrip("#")
    for prefix in ("task:", "contact:"):
        value = value.removeprefix(prefix)
    if value and not value.isdigit():
        raise PermanentError(f"{what} {text!r} is not a number")
    return value


class FormLinkParams(Params):
    form: str = Field(description="the form's name under connectors.forms.forms")
    task: TemplateStr = Field(description="task id put into the link (the form's task_entry)")
    contact: TemplateStr = Field("", description="contact id put into the link (the form's contact_entry)")
    prefill: dict[str, TemplateStr] = Field(default_factory=dict, description="more pre-filled entries: `entry.<id>: value`")
    remember: dict[str, TemplateStr] = Field(default_factory=dict, description="kept with the link; the submission's rules read it as `form.sent.<key>`")


# Later actions of the rule read `form_link`: url, task, contact, the remembered keys, and cancel_key
# (this send's reminder) / replaces (the reminder of the send this one supersedes, to cancel).


@action("form_link", FormLinkParams)
def form_link(ctx: ActionContext, p: FormLinkParams) -> None:
    """Build the form's pre-filled link for a task (later actions read `form_link.url`) and remember it was sent."""
    forms = _forms(ctx)
    task = _digits(str(ctx.render(p.task)), "task")
    contact = _digits(str(ctx.render(p.contact)), "contact")
    if not task:
        raise PermanentError(f"form_link: the task id rendered empty from {p.task!r}")
    try:
        url = forms.link(p.form, task, contact, {k: str(v) for k, v in ctx.render(p.prefill).items()})
    except (KeyError, ValueError) as exc:
        raise PermanentError(f"form_link: {exc.args[0]}") from None
    remembered = {k: str(v) for k, v in ctx.render(p.remember).items()}
    # One reminder per send: this send's timers carry `cancel_key`; the send it supersedes is named in
    # `replaces`, taken from what the previous send remembered (kept as is when this event is retried).
    previous = forms.sent(p.form, task) or {}
    replaces = str(previous.get("replaces", "")) if previous.get("event") == ctx.event.id else str(previous.get("cancel_key", ""))
    cancel_key = f"form:{p.form}:{task}:{ctx.event.id}"
    ctx.context["form_link"] = {"url": url, "form": p.form, "task": task, "contact": contact, "cancel_key": cancel_key,
                                "replaces": replaces, **remembered}
    if ctx.dry_run:
        return
    # Remembering is an upsert of one row: a retried or replayed event writes the same again.
    forms.remember_sent(p.form, task, url, {"contact": contact, "event": ctx.event.id, "cancel_key": cancel_key,
                                            "replaces": replaces, **remembered})
    ctx.trace("form.link", f"pre-filled link of form {p.form} for task {task}" + (f", contact {contact}" if contact else ""), url=url)


class FormReviewParams(Params):
    reason: TemplateStr = Field("{{ form.unmatched_reason }}", description="why it waits for an admin (shown in `app.py review`)")


@action("form_review", FormReviewParams)
def form_review(ctx: ActionContext, p: FormReviewParams) -> Halt:
    """Put the submission on the review list (kind `form`) and stop: an admin resolves it with `task=N`."""
    payload = ctx.event.payload
    subject = f"forms:{payload.get('form')}:{payload.get('response_id')}"
    reason = str(ctx.render(p.reason)) or "the submission matches no task"
    if not ctx.dry_run:
        item = ctx.runtime.reviews.open(REVIEW_KIND, subject, reason, dict(payload))
        if item.status != "open":
            raise PermanentError(f"review item {item.id} for {subject} was {item.status} already, yet the submission still "
                                 f"cannot be applied: {reason}")
        ctx.trace("form.review", f"waits for review as item {item.id}: {reason}; resolve it with "
                                 f"`python app.py review resolve {item.id} task=<number>`", review=item.id)
    return Halt(f"submission {subject} waits for review")


class FormApplyReviewParams(Params):
    pass


@action("form_apply_review", FormApplyReviewParams)
def form_apply_review(ctx: ActionContext, p: FormApplyReviewParams) -> None:
    """On `form.resolved`: queue the submission again as a `form.submitted` event with the task (and contact) the admin gave."""
    review: dict[str, Any] = ctx.context.get("review") or {}
    item, resolution = dict(review.get("item") or {}), dict(review.get("resolution") or {})
    if not item.get("response_id"):
        raise PermanentError(f"review item {review.get('review_id')} holds no form submission")
    try:
        task = _digits(str(resolution.get("task", "")), "task")
        contact = _digits(str(resolution.get("contact", "")), "contact") or str(item.get("contact") or "")
        if not task:
            raise PermanentError("no task number was given")
    except PermanentError as exc:
        # The decided item cannot be decided again: a new one asks once more, so nothing is lost.
        if not ctx.dry_run:
            again = ctx.runtime.reviews.open(REVIEW_KIND, f"{review.get('subject')}#{review.get('review_id')}",
                                             f"the resolution {resolution or '{}'} cannot be applied ({exc}); resolve with task=<number>", item)
            ctx.trace("form.review", f"resolution not usable: {exc}; waits again as review item {again.id}", review=again.id)
        return
    form = str(item.get("form", ""))
    try:
        settings = _forms(ctx).form(form)
    except KeyError as exc:
        raise PermanentError(f"review item {review.get('review_id')}: {exc.args[0]}") from None
    payload = {**item, "task": task, "contact": contact, "review_id": review.get("review_id"), "resolved_by": review.get("resolved_by")}
    event = IncomingEvent(KIND, settings.entity_key.replace("{task}", task), payload, f"{form}:{item['response_id']}:review:{review.get('review_id')}")

    def do() -> str:
        ctx.runtime.inbox.add("forms", [event])  # the idempotency key makes a repeat one event
        return event.idem_key

    ctx.effect(do, target="inbox", describe={"kind": KIND, "entity": event.entity_key, "task": task, "contact": contact})
    ctx.trace("form.review", f"submission {item['response_id']} queued again for task {task}")

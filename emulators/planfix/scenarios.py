"""Planfix → outside world: scenario rules whose action is "send HTTP request".

A rule says when (an event plus simple conditions, standing in for a Planfix automatic scenario
or a button) and what (URL, method, headers and body written with Planfix variables). When it
fires, the templates are rendered against the task at that moment and the request joins the
account's single outgoing queue (`dispatcher.py`). REST changes fire rules too — a relay that
writes a comment gets its own comment back — unless the change was made with `silent=true`.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .dispatcher import Dispatcher, Outgoing
from .render import Context, render
from .state import PlanfixState

Event = Literal["task_created", "task_changed", "status_changed", "comment_added", "button"]


class RequestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    method: Literal["GET", "POST", "PUT", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    retries: bool = Field(True, description="Planfix lets a request switch its retries off")


class Conditions(BaseModel):
    """All given conditions must hold; ids or names are accepted for statuses."""

    model_config = ConfigDict(extra="forbid")

    status_to: list[int | str] | None = None
    status_from: list[int | str] | None = None
    process: int | None = None
    template: int | None = None
    comment_owner: Literal["user", "contact"] | None = None
    comment_recipient: str | None = Field(None, description='"contact" = any contact, or an exact id like "user:3"')
    comment_has_text: bool | None = None
    comment_text_startswith: str | None = None
    field_equals: dict[int, Any] = Field(default_factory=dict, description="custom field id -> canonical value")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    event: Event
    when: Conditions = Field(default_factory=Conditions)
    request: RequestSpec
    enabled: bool = True


def _status_hit(st: PlanfixState, wanted: list[int | str], status_id: int | None) -> bool:
    status = st.statuses.get(status_id) if status_id is not None else None
    if status is None:
        return False
    names = {status["name"], *(t.get("name") for t in status.get("texts", []))}
    return any(w == status["id"] or str(w) in names or str(w) == str(status["id"]) for w in wanted)


def matches(st: PlanfixState, rule: Rule, task: dict[str, Any], comment: dict[str, Any] | None,
            old_status: int | None) -> bool:
    w = rule.when
    checks = [
        w.status_to is None or _status_hit(st, w.status_to, task["status"]),
        w.status_from is None or _status_hit(st, w.status_from, old_status),
        w.process is None or task["processId"] == w.process,
        w.template is None or task["template"] == w.template,
        all(task["custom"].get(int(k)) == v for k, v in w.field_equals.items()),
    ]
    if comment is not None:
        recipients = comment["recipients"]["users"]
        checks += [
            w.comment_owner is None or comment["owner"].startswith(w.comment_owner + ":"),
            w.comment_recipient is None or any(r == w.comment_recipient or r.startswith(w.comment_recipient + ":")
                                               for r in recipients),
            w.comment_has_text is None or bool(comment["description"].strip()) == w.comment_has_text,
            w.comment_text_startswith is None or comment["description"].startswith(w.comment_text_startswith),
        ]
    elif any(v is not None for v in (w.comment_owner, w.comment_recipient, w.comment_has_text,
                                     w.comment_text_startswith)):
        checks.append(False)
    return all(checks)


class ScenarioEngine:
    """Matches events against the account's rules and queues the rendered requests."""

    def __init__(self, state: PlanfixState, dispatcher: Dispatcher) -> None:
        self.state = state
        self.dispatcher = dispatcher

    def rules(self) -> list[Rule]:
        return [Rule.model_validate(r) for r in self.state.scenario_rules]

    def fire(self, event: Event, *, task: dict[str, Any], actor: str, comment: dict[str, Any] | None = None,
             old_status: int | None = None, only: str | None = None) -> list[int]:
        """Queue a request for every enabled rule of `event` that matches; returns delivery ids."""
        queued = []
        for rule in self.rules():
            if not rule.enabled or rule.event != event or (only is not None and rule.name != only):
                continue
            if not matches(self.state, rule, task, comment, old_status):
                continue
            queued.append(self.dispatcher.enqueue(self._build(rule, event, task, comment, actor)))
        return queued

    def _build(self, rule: Rule, event: str, task: dict[str, Any], comment: dict[str, Any] | None,
               actor: str) -> Outgoing:
        ctx = Context(self.state, task=task, comment=comment, actor=actor)
        url = rule.request.url
        if url.startswith("/") and self.state.hook_base:
            url = self.state.hook_base.rstrip("/") + url
        headers = {k: render(v, ctx) for k, v in rule.request.headers.items()}
        if rule.request.body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return Outgoing(rule=rule.name, event=event, task=task["id"], method=rule.request.method,
                        url=render(url, ctx, url=True), headers=headers, body=render(rule.request.body, ctx),
                        retries=rule.request.retries, unresolved=list(dict.fromkeys(ctx.unresolved)))

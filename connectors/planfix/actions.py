"""Planfix actions: comments (with files from Telegram), status changes, reading a task into the rule.

Every write goes through ctx.effect, keyed by rule, event and action. A comment carries a
`sourceObjectId` derived from that key, so a retry after a crash finds the comment it already
wrote instead of writing a second one; a status change looks at the task first, so a task already
in that status is left alone.
"""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, model_validator

from connectors.planfix.targets import connector, current_task, require_task, task_number
from connectors.planfix.values import date_object
from relay.actions.context import ActionContext, Halt
from relay.actions.params import MappingName, Params
from relay.changes import Change
from relay.errors import PermanentError, TransientError
from relay.registry import action
from relay.templating import TemplateStr

Role = Literal["assignee", "participant", "auditor", "assigner"]
NAMESPACE = uuid.UUID("6c0a4e38-9d53-4b8f-9a57-2f7f0d1a5c11")


def text_of(ctx: ActionContext, text: str | None, mapping: str | None, template: str | None) -> str:
    if text is not None:
        return str(ctx.render(text))
    templates = ctx.mapping(str(mapping)).templates
    if template not in templates:
        raise PermanentError(f"mapping {mapping!r} has no template {template!r} (has: {', '.join(sorted(templates)) or 'none'})")
    return str(ctx.render(templates[str(template)]))


class CommentParams(Params):
    task: TemplateStr | None = Field(None, description="task number or `planfix:task:N` (e.g. `{{ binding }}`); default: the event's task")
    chat: TemplateStr | None = Field(None, description="when `task` is empty: the task whose chat field holds this chat id (e.g. `{{ chat.id }}`)")
    text: TemplateStr | None = Field(None, description="comment text (HTML); escape what people wrote: `{{ message.text | e }}`")
    mapping: MappingName | None = Field(None, description="instead of `text`: a mapping whose `templates` hold the text")
    template: str | None = Field(None, description="with `mapping`: the template's name")
    for_client: bool = Field(False, description="address the comment to the task's counterparty (the client): Planfix notifies them, "
                                                "and the 'comment for client' scenario brings it back to the client chat")
    notify: list[Role] = Field(default_factory=list, description="task roles Planfix notifies of the comment, e.g. [assignee]")
    notify_people: list[TemplateStr] = Field(default_factory=list, description="people notified besides, e.g. `user:5`")
    date: TemplateStr | None = Field(None, description="the comment's date and time (ISO, e.g. `{{ message.date }}`); default: now")
    attach: Literal["telegram"] | None = Field(None, description="`telegram`: copy the files of the triggering Telegram message into the comment")
    skip_without_task: bool = Field(False, description="no task found (a chat bound to nothing): trace and skip instead of failing")

    @model_validator(mode="after")
    def _one_text(self) -> "CommentParams":
        if (self.text is None) == (self.mapping is None) or (self.mapping is None) != (self.template is None):
            raise ValueError("give exactly one of `text` or `mapping` + `template`")
        return self


@action("planfix_comment", CommentParams)
def planfix_comment(ctx: ActionContext, p: CommentParams) -> None:
    """Add a comment to a Planfix task once per rule and event (optionally for the client, notifying roles, with a Telegram message's files)."""
    number = task_number(ctx, p.task, p.chat)
    if number is None:
        if p.skip_without_task:
            ctx.trace("planfix.skip", "no Planfix task for this event; no comment written")
            return
        require_task(ctx, p.task, p.chat)
    pf = connector(ctx)
    text = text_of(ctx, p.text, p.mapping, p.template)
    body: dict[str, Any] = {"description": text.replace("\n", "<br>") if "<" not in text else text}
    if p.date:
        body["dateTime"] = date_object(ctx.render(p.date), pf.zone)
    users = [{"id": str(ctx.render(person)).strip()} for person in p.notify_people if str(ctx.render(person)).strip()]
    if p.for_client:
        client = (current_task(ctx, int(number)).get("counterparty") or {}).get("id")
        if not client:
            raise PermanentError(f"task {number} has no counterparty: a comment for the client needs one")
        users.append({"id": client})
    if users or p.notify:
        body["recipients"] = {**({"users": users} if users else {}), **({"roles": list(p.notify)} if p.notify else {})}
    key = ctx.key()
    body["sourceObjectId"] = str(uuid.uuid5(NAMESPACE, key))

    def do() -> str:
        files = _telegram_files(ctx) if p.attach == "telegram" else ([], [])
        if files[1]:
            body["description"] += "<br>" + "<br>".join(files[1])
        if files[0]:
            body["files"] = [{"id": i} for i in files[0]]
        answer = pf.client.post(f"/task/{number}/comments/", body).body
        return str(answer.get("id"))

    def find() -> str | None:
        rows = pf.client.post(f"/task/{number}/comments/list", {"fields": "id,sourceObjectId", "pageSize": 100, "typeList": "Comments",
                                                                "resultOrder": [{"field": "id", "direction": "Desc"}]}).body.get("comments") or []
        return next((str(r["id"]) for r in rows if r.get("sourceObjectId") == body["sourceObjectId"]), None)

    ctx.effect(do, find, target=f"planfix:task:{number}", describe={"task": number, "comment": body})


def _telegram_files(ctx: ActionContext) -> tuple[list[int], list[str]]:
    """Files of the Telegram message: downloaded from Telegram, uploaded to Planfix. A file that cannot
    be copied (too big for the Bot API, gone) is named in the comment instead of failing the event."""
    message = ctx.context.get("message") or {}
    if not message.get("files"):
        return [], []
    tg, pf = ctx.connector("telegram"), connector(ctx)
    bot = tg.bot_name(None, ctx.event)
    ids, notes = [], []
    for item in message["files"]:
        try:
            data = tg.client(bot).download(item["file_id"])
        except TransientError:
            raise
        except PermanentError as exc:
            ctx.trace("planfix.file", f"could not copy {item.get('name')} from Telegram: {exc}")
            notes.append(f"📎 {item.get('name')} — не скопирован из Telegram ({exc})")
            continue
        answer = pf.client.call("POST", "/file/", files={"file": (item.get("name") or "file", data, item.get("mime_type") or "application/octet-stream")})
        ids.append(int(answer.body["id"]))
    return ids, notes


class SetStatusParams(Params):
    task: TemplateStr | None = Field(None, description="task number or `planfix:task:N`; default: the event's task")
    status: TemplateStr = Field(description="a role from connectors.planfix.statuses (`completed`) or a status name")
    only_from: list[str] = Field(default_factory=list, description="change only from these statuses (roles or names); "
                                                                   "otherwise stop this event's remaining actions and rules")
    trigger_rules: bool = Field(False, description="treat the new status as news for rules, like a person's change "
                                                   "(false: its echo is ignored, so rules cannot loop on their own write)")
    silent: bool = Field(False, description="Planfix's silent mode: no notifications, no history, no scenarios")


@action("planfix_set_status", SetStatusParams)
def planfix_set_status(ctx: ActionContext, p: SetStatusParams) -> Halt | None:
    """Move a Planfix task to a status (looked up by name in the task's process); a task already there is left alone."""
    pf = connector(ctx)
    number = require_task(ctx, p.task)
    task = current_task(ctx, number)
    which = str(ctx.render(p.status)).strip()
    status_id = pf.status_id(task, which)
    if p.only_from and not any(task["status"].casefold() in {n.casefold() for n in pf.settings.statuses.get(w, [w])} for w in p.only_from):
        return Halt(f"task {number} is {task['status']!r}, not in {', '.join(p.only_from)}: status left unchanged")
    name = next(s.name for s in pf.catalog.statuses(int(task["process_id"])) if s.id == status_id)

    def do() -> str:
        reply = pf.update_task(number, {"status": {"id": status_id}}, None if p.trigger_rules else {"status": name}, silent=p.silent)
        if reply.queued:
            ctx.trace("planfix.queued", f"Planfix queued the change of task {number} (202); it applies shortly")
        return f"{number}:{status_id}"

    def find() -> str | None:
        fresh = pf.read_task(number)
        return f"{number}:{status_id}" if fresh is not None and fresh["status_id"] == status_id else None

    ctx.effect(do, find, look_first=True, target=f"planfix:task:{number}", describe={"task": number, "status": name})
    return None


class TaskParams(Params):
    task: TemplateStr = Field(description="task number or `planfix:task:N`, e.g. `{{ timer.task }}` or `{{ callback.data.split(':')[-1] }}`")
    unless_status: list[str] = Field(default_factory=list, description="stop this event's remaining actions and rules if the task "
                                                                       "is in one of these statuses (roles or names)")
    only_status: list[str] = Field(default_factory=list, description="stop unless the task is in one of these statuses")
    need_chat: bool = Field(False, description="stop (traced) when the task has no client chat (see `client_chat`)")


@action("planfix_task", TaskParams)
def planfix_task(ctx: ActionContext, p: TaskParams) -> Halt | None:
    """Read a Planfix task into the rule (`task`, `status`, `client_chat`, `planfix`) for events not about it: timers, button presses."""
    pf = connector(ctx)
    number = require_task(ctx, p.task)
    task = pf.read_task(number)
    if task is None:
        return Halt(f"Planfix task {number} does not exist (any more)")
    ctx.context.update(pf.context(task))
    ctx.context.setdefault("change", Change(f"planfix:task:{number}", {}, {}))
    status = ctx.context["status"]
    if p.unless_status and any(status.is_now(s) for s in p.unless_status):
        return Halt(f"task {number} is {task['status']!r}")
    if p.only_status and not any(status.is_now(s) for s in p.only_status):
        return Halt(f"task {number} is {task['status']!r}, not {', '.join(p.only_status)}")
    if p.need_chat and not ctx.context["client_chat"]:
        return Halt(f"task {number} has no client chat (no /bind, no {pf.settings.chat_field!r} in it, its parents or its project)")
    ctx.trace("planfix.task", f"task {number} ({task['status']}) read for the rule")
    return None

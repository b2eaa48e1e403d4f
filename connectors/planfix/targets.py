"""Which task an action means: `task:` as written in the rule (`1003`, `planfix:task:1003`,
`{{ binding }}`), else the task the event is about, else the task whose chat field holds `chat:`."""
from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from relay.actions.context import ActionContext
from relay.errors import PermanentError

if TYPE_CHECKING:
    from connectors.planfix.connector import PlanfixConnector

_TASK = re.compile(r"^(?:planfix:task:|#)?(\d+)$")
CHAT_TASKS = "planfix.chat_task"  # chat id → task number found by the chat field (a cache in Links)
UNBOUND_SECONDS = 300.0
_unbound: dict[str, float] = {}  # chat id → until when it is known to belong to no task (this process)


def connector(ctx: ActionContext) -> "PlanfixConnector":
    return ctx.connector("planfix")


def parse_task(text: str) -> int | None:
    m = _TASK.match(text.strip())
    return int(m.group(1)) if m else None


def task_number(ctx: ActionContext, raw: str | None, chat: str | None = None) -> int | None:
    """The task number the rule names; None when it names none and none can be found (the caller decides)."""
    if raw is not None:
        text = str(ctx.render(raw)).strip()
        if text:
            found = parse_task(text)
            if found is None:
                raise PermanentError(f"task {text!r} is not a Planfix task (write 1003 or planfix:task:1003)")
            return found
    elif ctx.event.entity_key.startswith("planfix:task:"):
        return int(ctx.event.entity_key.rsplit(":", 1)[1])
    elif isinstance(ctx.context.get("task"), dict) and ctx.context["task"].get("id"):
        return int(ctx.context["task"]["id"])
    if chat is not None:
        chat_id = str(ctx.render(chat)).strip()
        return task_for_chat(ctx, chat_id) if chat_id else None
    return None


def task_for_chat(ctx: ActionContext, chat_id: str) -> int | None:
    """The task whose chat field holds this chat (the lowest number if several do), remembered in Links.
    A chat of no task is asked about again only after a while: every message would cost a request."""
    links = ctx.runtime.links
    known = links.get(CHAT_TASKS, chat_id)
    if known is not None:
        return int(known)
    if _unbound.get(chat_id, 0.0) > time.monotonic():
        return None
    pf = connector(ctx)
    field = pf.catalog.task_field(pf.settings.chat_field)
    rows = pf.client.list_all("/task/list", {"fields": "id", "filters": [
        {"type": 101 + field.type if field.type <= 17 else 101, "field": field.id, "operator": "equal", "value": chat_id}]}, "tasks", limit=100)
    if not rows:
        _unbound[chat_id] = time.monotonic() + UNBOUND_SECONDS
        return None
    number = min(int(r["id"]) for r in rows)
    links.set(CHAT_TASKS, chat_id, str(number), {"field": field.id})
    ctx.trace("planfix.chat", f"chat {chat_id} belongs to task {number} (its {field.name!r} field)")
    return number


def require_task(ctx: ActionContext, raw: str | None, chat: str | None = None) -> int:
    number = task_number(ctx, raw, chat)
    if number is None:
        raise PermanentError("no Planfix task to act on: give `task:` (the event is not about a Planfix task"
                             + (" and no task has this chat in its chat field)" if chat else ")"))
    return number


def current_task(ctx: ActionContext, number: int) -> dict[str, Any]:
    """The task from this event's context if it is that task, else read now."""
    known = ctx.context.get("task")
    if isinstance(known, dict) and known.get("id") == number:
        return known
    task = connector(ctx).read_task(number)
    if task is None:
        raise PermanentError(f"Planfix task {number} does not exist (any more)")
    return task

"""What rules see of a Planfix task, and the flat snapshot change detection compares.

A task read over REST (`GET /task/{id}?fields=…`) becomes a plain dict: `task.name`,
`task.status`, `task.assignees`, `task.end`, `task.fields['Telegram chat id']`… so rules never
depend on Planfix's nested wire shapes. `StatusView` answers "did the task enter In work?" by
role names configured in `connectors.planfix.statuses`.
"""
from __future__ import annotations

from datetime import tzinfo
from typing import Any, Callable

from connectors.planfix.catalog import FieldDef
from connectors.planfix.values import parse_moment, plain

TASK_FIELDS = ("id,name,description,status,processId,dateTime,assigner,assignees,auditors,participants,parent,project,"
               "counterparty,template,startDateTime,endDateTime,dateOfLastUpdate,actualCompletionDate,duration,durationUnit")
# Bookkeeping Planfix changes on every write; a change of only these is no news.
VOLATILE = {"updated"}


def _person(block: Any) -> dict[str, Any] | None:
    return {"id": str(block.get("id")), "name": str(block.get("name") or "")} if isinstance(block, dict) and block.get("id") else None


def _people(block: Any) -> list[dict[str, Any]]:
    users = block.get("users") if isinstance(block, dict) else None
    return [p for p in (_person(u) for u in users or []) if p]


def _ident(value: Any) -> int | None:
    return int(value["id"]) if isinstance(value, dict) and str(value.get("id", "")).isdigit() else None


def _moment(value: Any, zone: tzinfo) -> str | None:
    moment = parse_moment(value) if value else None
    return moment.astimezone(zone).isoformat() if moment else None


def task_context(raw: dict[str, Any], fields: dict[int, FieldDef], zone: tzinfo, link_base: str) -> dict[str, Any]:
    """The task as rules read it (`task.…`)."""
    status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
    values: dict[str, Any] = {}
    by_id: dict[int, Any] = {}
    for item in raw.get("customFieldData") or []:
        head = item.get("field") or {}
        fid = int(head.get("id", 0))
        known = fields.get(fid)
        ftype = known.type if known else int(head.get("type") or 0)
        value = plain(ftype, item.get("value"))
        by_id[fid] = value
        values[str(head.get("name") or (known.name if known else fid))] = value
    end_at = _moment(raw.get("endDateTime"), zone)
    assignees = _people(raw.get("assignees"))
    return {
        "id": int(raw["id"]), "name": str(raw.get("name") or ""), "description": str(raw.get("description") or ""),
        "url": f"{link_base}/task/{raw['id']}",
        "status": str(status.get("name") or ""), "status_id": status.get("id"), "process_id": raw.get("processId"),
        "assigner": _person(raw.get("assigner")), "assigner_id": (_person(raw.get("assigner")) or {}).get("id"), "assignees": assignees, "assignee_ids": [p["id"] for p in assignees],
        "auditors": _people(raw.get("auditors")), "participants": _people(raw.get("participants")),
        "parent_id": _ident(raw.get("parent")), "project_id": _ident(raw.get("project")), "template_id": _ident(raw.get("template")),
        "counterparty": _person(raw.get("counterparty")),
        "end": end_at[:10] if end_at else None, "end_at": end_at,
        "created": _moment(raw.get("dateTime"), zone), "completed_at": _moment(raw.get("actualCompletionDate"), zone), "updated": _moment(raw.get("dateOfLastUpdate"), zone),
        "duration": raw.get("duration"), "duration_unit": raw.get("durationUnit"),
        "fields": values, "field_ids": by_id,
    }


def snapshot(task: dict[str, Any]) -> dict[str, Any]:
    """The comparable state: what a change of is news (custom fields by name)."""
    flat = {k: task[k] for k in ("name", "description", "status", "process_id", "parent_id", "project_id", "end_at",
                                 "completed_at", "updated")}
    flat["assignees"] = sorted(task["assignee_ids"])
    flat["assigner"] = (task["assigner"] or {}).get("id")
    flat["counterparty"] = (task["counterparty"] or {}).get("id")
    for name, value in task["fields"].items():
        flat.setdefault(name, value)
    return flat


class StatusView:
    """`status.entered('in_work')`, `status.left('approval')`, `status.is_now('completed')`: a role from
    `connectors.planfix.statuses`, or a status name as the account shows it."""

    def __init__(self, roles: dict[str, list[str]], now: str, before: str | None, changed: bool) -> None:
        self._roles = roles
        self.name, self.previous, self.changed = now, before, changed

    def names(self, which: str) -> list[str]:
        return self._roles.get(which, [which])

    def _is(self, which: str, name: str | None) -> bool:
        return bool(name) and str(name).casefold() in {n.casefold() for n in self.names(which)}

    def entered(self, which: str) -> bool:
        return self.changed and self._is(which, self.name) and not self._is(which, self.previous)

    def left(self, which: str) -> bool:
        return self.changed and self._is(which, self.previous) and not self._is(which, self.name)

    def is_now(self, which: str) -> bool:
        return self._is(which, self.name)

    def __str__(self) -> str:
        return self.name


class Lazy:
    """A value worked out only when a template uses it (`{{ client_chat }}`, `if: client_chat`): most
    rules never need the client chat, and each look-up costs requests at 1 per second."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute
        self._done = False
        self._value: Any = None

    @property
    def value(self) -> Any:
        if not self._done:
            self._value, self._done = self._compute(), True
        return self._value

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)

    def __bool__(self) -> bool:
        return self.value is not None

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

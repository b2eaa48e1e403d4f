"""The live Planfix connector: read-back and change detection for scenario requests, the client
chat of a task, net working time from the status history, writes that remember themselves."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.planfix.catalog import Catalog
from connectors.planfix.client import PlanfixClient, PlanfixNotFound, Reply
from connectors.planfix.comments import comment_context
from connectors.planfix.model import TASK_FIELDS, VOLATILE, Lazy, StatusView, snapshot, task_context
from connectors.planfix.settings import PlanfixSettings
from connectors.planfix.source import PlanfixSource, task_key
from connectors.planfix.sweep import Sweep
from connectors.planfix.values import as_moment, parse_moment
from relay.changes import Change
from relay.errors import PermanentError
from relay.inbox import Claimed
from relay.store import utcnow

if TYPE_CHECKING:
    from relay.runtime import Runtime

TELEGRAM_BINDING = "telegram.binding"  # chat id → entity key, written by the Telegram connector's /bind
CHANGE_KINDS = (".changed", ".status_changed", ".created", ".updated")


class PlanfixConnector:
    name = "planfix"

    def __init__(self, settings: PlanfixSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.zone = settings.zone()
        self.client = PlanfixClient(settings)
        self.catalog = Catalog(self.client)
        self.link_base = settings.account_url.removesuffix("/rest")
        self.sweeper = Sweep(self)

    def sources(self) -> dict[str, PlanfixSource]:
        return {"planfix": PlanfixSource(self.settings)}

    # --- reading ---------------------------------------------------------------------------
    def read_task(self, task_id: int | str) -> dict[str, Any] | None:
        """The task as rules see it, read now; None if it does not exist (any more)."""
        fields = self.catalog.task_fields()
        wanted = TASK_FIELDS + "".join(f",{fid}" for fid in sorted(fields))
        try:
            raw = self.client.get(f"/task/{int(task_id)}", wanted).get("task")
        except PlanfixNotFound:
            return None
        return task_context(raw, fields, self.zone, self.link_base) if isinstance(raw, dict) else None

    def context(self, task: dict[str, Any], status: StatusView | None = None) -> dict[str, Any]:
        """What rules get for a task: `task`, `status`, `client_chat` (looked up when used), `planfix` helpers."""
        return {"task": task, "status": status or StatusView(self.settings.statuses, task["status"], task["status"], False),
                "client_chat": Lazy(lambda: self.client_chat(task)), "planfix": Helpers(self, task), "comment": None}

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        task_id = event.payload.get("task")
        task = self.read_task(task_id) if task_id is not None else None
        if task is None:
            self.runtime.tracer.add(event.id, "read-back", f"task {task_id} does not exist in Planfix (any more)")
            return None
        if event.payload.get("comment") is not None:
            return self._comment_context(event, task)
        change = self.runtime.snapshots.observe(event.entity_key, snapshot(task), event.id)
        self.runtime.tracer.add(event.id, "read-back", f"task {task['id']} ({task['status']}): " + (
            ", ".join(sorted(change.fields)) if change.fields else "no change") + (f" (echo of own write: {', '.join(change.echoes)})" if change.echoes else ""),
            change=change.as_dict() if len(str(change.fields)) < 4000 else {"fields": sorted(change.fields)})
        before = None if change.created else change.old.get("status")
        status = StatusView(self.settings.statuses, task["status"], before, "status" in change.fields)
        if event.kind.endswith(CHANGE_KINDS) and (not change or (not change.created and set(change.fields) <= VOLATILE)):
            return None
        return {**self.context(task, status), "change": change}

    def _comment_context(self, event: Claimed, task: dict[str, Any]) -> dict[str, Any]:
        """A comment is news by itself; the task is read for the rules, its snapshot left alone."""
        comment_id = int(event.payload["comment"])
        try:
            raw = self.client.get(f"/comment/{comment_id}", "id,dateTime,description,owner,recipients,files,fromType,isDeleted,type")
        except PlanfixNotFound:
            raw = {}
        comment = comment_context(raw.get("comment"), self.settings.client_marker, self.zone) if raw.get("comment") else None
        shown = f"comment {comment_id}: " + ("deleted or not found" if comment is None else
                                              f"by {comment['author']}, for the client: {'yes' if comment['for_client'] else 'no'}")
        self.runtime.tracer.add(event.id, "read-back", f"task {task['id']}, {shown}")
        return {**self.context(task), "change": Change(event.entity_key, {}, {}), "comment": comment}

    # --- the client chat ---------------------------------------------------------------------
    def client_chat(self, task: dict[str, Any]) -> int | str | None:
        """The task's client chat: bound with /bind, or in the chat field — of the task, an ancestor,
        or another task of its project (the communication task)."""
        current: dict[str, Any] | None = task
        seen: set[int] = set()
        while current is not None and current["id"] not in seen and len(seen) < 5:
            seen.add(current["id"])
            found = self._chat_of(current["id"], current["field_ids"].get(self._chat_field_id()))
            if found is not None:
                return found
            current = self.read_task(current["parent_id"]) if current["parent_id"] else None
        if not task["project_id"]:
            return None
        field_id = self._chat_field_id()
        rows = self.client.list_all("/task/list", {"fields": f"id,{field_id}", "filters": [
            {"type": 5, "operator": "equal", "value": task["project_id"]}]}, "tasks", limit=500)
        for row in sorted(rows, key=lambda r: int(r["id"])):
            values = {int((c.get("field") or {}).get("id", 0)): c.get("value") for c in row.get("customFieldData") or []}
            found = self._chat_of(int(row["id"]), values.get(field_id))
            if found is not None:
                return found
        return None

    def _chat_field_id(self) -> int:
        return self.catalog.task_field(self.settings.chat_field).id

    def _chat_of(self, task_id: int, field_value: Any) -> int | str | None:
        bound = sorted(self.runtime.links.keys_for(TELEGRAM_BINDING, task_key(task_id)))
        text = bound[0] if bound else str(field_value or "").strip()
        if text.lstrip("-").isdigit():
            return int(text)
        return text if text.startswith("@") and len(text) > 1 else None

    # --- status history ------------------------------------------------------------------------
    def net_minutes(self, task: dict[str, Any], which: str = "in_work") -> int:
        """Minutes the task spent in the status (role) `which`, summed over every period, from the
        status-change rows of the task's history (`typeList: All`)."""
        if task["process_id"] is None:
            return 0
        ids = self.catalog.status_ids(int(task["process_id"]), self.settings.statuses.get(which, [which]))
        rows = self.client.list_all(f"/task/{task['id']}/comments/list", {
            "fields": "id,dateTime,changeStatus", "typeList": "All", "resultOrder": [{"field": "dateTime", "direction": "Asc"}]}, "comments")
        total, started = timedelta(0), None
        for row in rows:
            change, at = row.get("changeStatus"), parse_moment(row.get("dateTime"))
            if not change or at is None:
                continue
            inside = change.get("newStatusId") in ids
            if inside and started is None:
                started = at
            elif not inside and started is not None:
                total, started = total + (at - started), None
        if started is not None:
            total += utcnow() - started
        return int(round(total.total_seconds() / 60))

    def status_id(self, task: dict[str, Any], which: str) -> int:
        if task["process_id"] is None:
            raise PermanentError(f"task {task['id']} has no process; its status cannot be set by name")
        return self.catalog.status_id(int(task["process_id"]), self.settings.statuses.get(which, [which]), which)

    # --- writing ---------------------------------------------------------------------------
    def update_task(self, task_id: int, body: dict[str, Any], own: dict[str, Any] | None = None, silent: bool = False) -> Reply:
        """Change a task. `own`: snapshot fields this write sets, so its echo is not taken for news."""
        if own:
            self.runtime.snapshots.record_writes(task_key(task_id), own)
        reply = self.client.post(f"/task/{task_id}", body, silent=silent)
        failures = reply.body.get("failures") or []
        if failures:
            shown = "; ".join(f"{f.get('field')}: {f.get('error')}" for f in failures if isinstance(f, dict))
            raise PermanentError(f"Planfix did not change task {task_id}: {shown}")
        return reply

    # --- scheduler --------------------------------------------------------------------------
    def periodic_jobs(self) -> list[tuple[float, Any, str]]:
        interval = self.settings.sweep.interval_seconds
        return [(interval, self.sweeper.run, "planfix-sweep")] if interval else []

    def close(self) -> None:
        self.client.close()


class Helpers:
    """`planfix.…` in templates: values that cost a look-up, computed only when a rule asks."""

    def __init__(self, connector: PlanfixConnector, task: dict[str, Any]) -> None:
        self._connector, self._task = connector, task

    def net_minutes(self, which: str = "in_work") -> int:
        return self._connector.net_minutes(self._task, which)

    def net_hours(self, which: str = "in_work") -> float:
        return round(self.net_minutes(which) / 60, 2)

    def now(self) -> datetime:
        return utcnow().astimezone(self._connector.zone)

    def today(self) -> str:
        return self.now().date().isoformat()

    def working_days_before(self, day: Any, days: int, at: str = "10:00") -> datetime:
        """The working day `days` working days before `day` (counting `day` itself if it is one), at
        `at` local time: "the period ends in 5 working days". Weekends and public holidays are skipped."""
        calendar = self._connector.runtime.calendar
        current = as_moment(day, self._connector.zone).date()
        remaining = int(days)
        while remaining > 0:
            if calendar.is_working_day(current):
                remaining -= 1
            current -= timedelta(days=1)
        while not calendar.is_working_day(current):
            current -= timedelta(days=1)
        hour, _, minute = at.partition(":")
        return datetime(current.year, current.month, current.day, int(hour), int(minute or 0), tzinfo=self._connector.zone)

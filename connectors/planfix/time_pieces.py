"""Tracked time in Planfix for a span of time, as pieces per employee, task and local day.

Two kinds of tracked time, both read over REST:

- `status`: the periods a task spent in its work status (the in-work periods S14 sums), from the
  status-change rows of its history (`typeList: All`). A task created straight into that status is in
  work from its creation. Each period is cut to the span and split at local midnight, and is counted
  for each assignee of the task.
- `entry`: entries of the time-tracking data tag ("Учет времени"): a date, minutes (or a from–to time
  period), the employee, a note.

Which tasks are read: those changed since the span began (filter 38), plus those in the work status
now (a task in work the whole span changed before it). That costs one request per such task for its
history, at Planfix's one request per second.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Iterator

from connectors.planfix.catalog import FieldDef, find_field
from connectors.planfix.client import PlanfixError
from connectors.planfix.values import local_iso, parse_moment
from relay.errors import PermanentError

if TYPE_CHECKING:
    from connectors.planfix.connector import PlanfixConnector

TASK_FIELDS = "id,name,project,assignees,processId,status,dateTime"


@dataclass(frozen=True)
class EntryFields:
    """Names (or ids) of the time data tag's fields; `explicit` ones must exist, the others are used if they do."""

    data_tag: str
    date: str = "Дата"
    minutes: str = "Минуты"
    period: str = "Время"
    employee: str = "Сотрудник"
    note: str = "Комментарий"
    work_type: str = "Вид работ"
    explicit: frozenset[str] = field(default_factory=frozenset)


def day_pieces(start: datetime, end: datetime, zone: tzinfo) -> Iterator[tuple[date, float]]:
    """(local day, minutes) of [start, end), split at local midnight."""
    current = start
    while current < end:
        local = current.astimezone(zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), zone)
        stop = min(end, midnight)
        yield local.date(), (stop - current).total_seconds() / 60
        current = stop


def work_periods(history: list[dict[str, Any]], work_ids: set[int], created: datetime | None, in_work_now: bool,
                 now: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) of every stay in a work status, from the status-change rows in time order."""
    changes = [(at, row["changeStatus"]) for row in history
               if isinstance(row.get("changeStatus"), dict) and (at := parse_moment(row.get("dateTime"))) is not None]
    changes.sort(key=lambda item: item[0])
    began_in_work = changes[0][1].get("oldStatusId") in work_ids if changes else in_work_now
    started = created if began_in_work else None
    periods = []
    for at, change in changes:
        inside = change.get("newStatusId") in work_ids
        if inside and started is None:
            started = at
        elif not inside and started is not None:
            periods.append((started, at))
            started = None
    if started is not None:
        periods.append((started, now))
    return periods


class TimeReader:
    def __init__(self, pf: "PlanfixConnector", work_status: str, entries: EntryFields | None, zone: tzinfo) -> None:
        self.pf, self.work_status, self.entries, self.zone = pf, work_status, entries, zone
        self._projects: dict[int, str] = {}

    def pieces(self, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
        """Every piece of tracked time inside [start, end) (status periods still open end at `now`)."""
        work_ids = self._work_status_ids()
        tasks = self._candidates(start, work_ids)
        rows: list[dict[str, Any]] = []
        for task_id in sorted(tasks):
            rows += self._status_pieces(tasks[task_id], work_ids, start, min(end, now), now)
        if self.entries is not None and self.entries.data_tag:
            rows += self._entry_pieces(start, end, tasks)
        return rows

    # --- status periods --------------------------------------------------------------------------
    def _work_status_ids(self) -> set[int]:
        names = self.pf.settings.statuses.get(self.work_status, [self.work_status])
        processes = self.pf.client.get("/process/task").get("processes") or []
        ids: set[int] = set()
        for process in processes:
            ids |= self.pf.catalog.status_ids(int(process["id"]), names)
        if not ids:
            raise PermanentError(f"no Planfix process has the status {self.work_status!r} (looked for {', '.join(names)})")
        return ids

    def _candidates(self, start: datetime, work_ids: set[int]) -> dict[int, dict[str, Any]]:
        since = start.astimezone(self.pf.zone).strftime("%d-%m-%Y %H:%M")
        changed = self.pf.client.list_all("/task/list", {"fields": TASK_FIELDS, "filters": [
            {"type": 38, "operator": "gtAndEqual", "value": {"dateType": "otherDate_withTime", "dateFrom": since}}]}, "tasks")
        working = self.pf.client.list_all("/task/list", {"fields": TASK_FIELDS, "filters": [
            {"type": 10, "operator": "equal", "value": sorted(work_ids)}]}, "tasks")
        return {int(t["id"]): t for t in changed + working}

    def _status_pieces(self, task: dict[str, Any], work_ids: set[int], start: datetime, stop: datetime,
                       now: datetime) -> list[dict[str, Any]]:
        if stop <= start:
            return []
        history = self.pf.client.list_all(f"/task/{task['id']}/comments/list", {
            "fields": "id,dateTime,changeStatus", "typeList": "All", "resultOrder": [{"field": "dateTime", "direction": "Asc"}]},
            "comments")
        in_work_now = (task.get("status") or {}).get("id") in work_ids
        periods = work_periods(history, work_ids, parse_moment(task.get("dateTime")), in_work_now, now)
        people = [(str(u["id"]), str(u.get("name") or "")) for u in (task.get("assignees") or {}).get("users") or [] if u.get("id")]
        rows = []
        for began, ended in periods:
            for day, minutes in day_pieces(max(began, start), min(ended, stop), self.zone):
                for employee, name in people or [("", "")]:
                    rows.append(self._row(task, "status", employee, name, day, minutes))
        return rows

    # --- time-tracking entries ---------------------------------------------------------------------
    def _entry_pieces(self, start: datetime, end: datetime, tasks: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.entries is not None
        tag_id, tag_name, fields = self.pf.catalog.data_tag(self.entries.data_tag)
        chosen = self._entry_fields(tag_name, fields)
        if "minutes" not in chosen and "period" not in chosen:
            raise PermanentError(f"Planfix data tag {tag_name!r} has neither the minutes field {self.entries.minutes!r} "
                                 f"nor the period field {self.entries.period!r}")
        first, last = start.astimezone(self.zone).date(), (end.astimezone(self.zone) - timedelta(microseconds=1)).date()
        date_field = chosen["date"]
        body = {"fields": "key,task," + ",".join(str(f.id) for f in chosen.values()), "filters": [
            {"type": 3101 + date_field.type, "field": date_field.id, "operator": "equal",
             "value": {"dateType": "otherRange", "dateFrom": first.strftime("%d-%m-%Y"), "dateTo": last.strftime("%d-%m-%Y")}}]}
        entries = self.pf.client.list_all(f"/datatag/{tag_id}/entry/list", body, "dataTagEntries")
        missing = sorted({int(e["task"]["id"]) for e in entries if isinstance(e.get("task"), dict)} - set(tasks))
        for chunk in (missing[i:i + 100] for i in range(0, len(missing), 100)):
            for task in self.pf.client.list_all("/task/list", {"fields": TASK_FIELDS, "filters": [
                    {"type": 57, "operator": "equal", "value": chunk}]}, "tasks"):
                tasks[int(task["id"])] = task
        rows = []
        for entry in entries:
            values = {int((c.get("field") or {}).get("id", 0)): c.get("value") for c in entry.get("customFieldData") or []}
            written = values.get(date_field.id)
            day = local_iso(str(written.get("date") or "")) if isinstance(written, dict) else None
            minutes = _entry_minutes(values, chosen)
            if not day or not first.isoformat() <= day <= last.isoformat() or not minutes:
                continue
            person = values.get(chosen["employee"].id) if "employee" in chosen else None
            employee, name = (str(person.get("id") or ""), str(person.get("name") or "")) if isinstance(person, dict) else ("", "")
            task_ref = entry.get("task") if isinstance(entry.get("task"), dict) else {}
            task = tasks.get(int(task_ref.get("id") or 0), {"id": task_ref.get("id") or "", "name": task_ref.get("name") or ""})
            row = self._row(task, "entry", employee, name, date.fromisoformat(day), minutes)
            row["note"] = str(values.get(chosen["note"].id) or "") if "note" in chosen else ""
            work = values.get(chosen["work_type"].id) if "work_type" in chosen else None
            row["work_type"] = str(work.get("value") or "") if isinstance(work, dict) else str(work or "")
            rows.append(row)
        return rows

    def _entry_fields(self, tag_name: str, fields: dict[int, FieldDef]) -> dict[str, FieldDef]:
        assert self.entries is not None
        chosen: dict[str, FieldDef] = {}
        for role in ("date", "minutes", "period", "employee", "note", "work_type"):
            ref = getattr(self.entries, role)
            if not ref:
                continue
            try:
                chosen[role] = find_field(fields, ref, f"Planfix data tag {tag_name!r}")
            except PermanentError:
                if role == "date" or role in self.entries.explicit:
                    raise
        return chosen

    # --- rows ------------------------------------------------------------------------------------
    def _row(self, task: dict[str, Any], source: str, employee: str, name: str, day: date, minutes: float) -> dict[str, Any]:
        project = task.get("project") if isinstance(task.get("project"), dict) else {}
        project_id = int(project["id"]) if str(project.get("id", "")).isdigit() else None
        return {"source": source, "day": day.isoformat(), "minutes": round(minutes, 2), "employee": employee,
                "employee_name": name or employee, "project_id": project_id or "",
                "project": self._project_name(project_id, project.get("name")) if project_id else "",
                "task_id": task.get("id") or "", "task": str(task.get("name") or ""), "note": "", "work_type": ""}

    def _project_name(self, project_id: int, given: Any) -> str:
        if given:
            return str(given)
        if project_id not in self._projects:
            try:
                answer = self.pf.client.get(f"/project/{project_id}", "id,name").get("project") or {}
                self._projects[project_id] = str(answer.get("name") or f"#{project_id}")
            except PlanfixError:
                self._projects[project_id] = f"#{project_id}"  # a project the token may not see: its number still groups
        return self._projects[project_id]


def _entry_minutes(values: dict[int, Any], chosen: dict[str, FieldDef]) -> float:
    """The entry's minutes field, or the length of its from–to period (over midnight if `to` is earlier)."""
    if "minutes" in chosen:
        raw = values.get(chosen["minutes"].id)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
            return float(raw)
    period = values.get(chosen["period"].id) if "period" in chosen else None
    if isinstance(period, dict):
        try:
            a = datetime.strptime(str((period.get("from") or {}).get("time")), "%H:%M")
            b = datetime.strptime(str((period.get("to") or {}).get("time")), "%H:%M")
        except ValueError:
            return 0.0
        return ((b - a).total_seconds() / 60) % 1440
    return 0.0

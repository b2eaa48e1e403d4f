"""Time reports (S23): tracked time per employee and project from Planfix, as the report source
`planfix:time`, and a staff-chat summary after every half-month.

The rows come from Planfix when a report runs (connectors/planfix/time_pieces.py); nothing is kept in
the store. The summary is an inbox event `period.closed` whose idempotency key is the period, queued by
the scheduler leader once the period's `send_at` has passed: however many processes run the job, and
however often, each half-month is one event, so a rule sends one message.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from connectors.time_reports.periods import Period, PeriodError, last_closed, parse_period
from connectors.time_reports.settings import TimeReportsSettings
from relay.errors import PermanentError, TransientError
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent
from relay.reports import sources
from relay.reports.engine import ReportParamError, Result, run_report
from relay.reports.tree import day, number
from relay.store import utcnow

if TYPE_CHECKING:
    from relay.runtime import Runtime

SOURCE = "planfix:time"
ENTITY = "time_reports:summary"


class PlanfixUnavailable(ReportParamError):
    """Planfix could not be read for a report; `cause` says why (a TransientError is worth retrying)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(f"Planfix could not be read: {cause}")
        self.cause = cause


def hm(minutes: Any) -> str:
    """90 → "1:30" (hours:minutes, for messages)."""
    total = int(round(number(minutes) or 0))
    return f"{total // 60}:{total % 60:02d}"


class TimeRows:
    """The report source `planfix:time`: one row per employee, task, local day and kind of time."""

    def __init__(self, connector: "TimeReportsConnector") -> None:
        self.connector = connector

    def rows(self, params: dict[str, str]) -> list[dict[str, Any]]:
        try:
            period = parse_period(params.get("period") or "last", self.connector.today())
        except PeriodError as exc:
            raise ReportParamError(str(exc)) from None
        try:
            rows = self.connector.pieces(period)
        except (TransientError, PermanentError) as exc:
            raise PlanfixUnavailable(exc) from exc
        for row in rows:
            row["period"] = period.label
        return rows

    def context(self, row: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        return {"row": row, "params": params, "number": number, "day": day}


class TimeReportsConnector:
    name = "time_reports"

    def __init__(self, settings: TimeReportsSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.zone = settings.zone()
        sources.provide(runtime.store, SOURCE, TimeRows(self))

    def today(self) -> date:
        return utcnow().astimezone(self.zone).date()

    def pieces(self, period: Period) -> list[dict[str, Any]]:
        from connectors.planfix.time_pieces import EntryFields, TimeReader  # the planfix connector is optional elsewhere

        if "planfix" not in self.runtime.config.connectors:
            raise PermanentError("connectors.time_reports reads Planfix: configure connectors.planfix too")
        entries = self.settings.entries
        fields = EntryFields(**entries.model_dump(), explicit=frozenset(entries.model_fields_set - {"data_tag"}))
        reader = TimeReader(self.runtime.connector("planfix"), self.settings.work_status, fields, self.zone)
        return reader.pieces(period.start(self.zone), period.end(self.zone), utcnow())

    # --- the half-month summary -----------------------------------------------------------------
    def periodic_jobs(self) -> list[tuple[float, Any, str]]:
        seconds = self.settings.summary.check_seconds
        return [(seconds, self.queue_closed_period, "time-report-summary")] if seconds else []

    def queue_closed_period(self, now: datetime | None = None) -> int:
        """Queue the summary of the last half-month once its send time has passed; 1 if queued now, else 0."""
        local = (now or utcnow()).astimezone(self.zone)
        period = last_closed(local.date())
        hour, minute = (int(part) for part in self.settings.summary.send_at.split(":"))
        if local < datetime.combine(period.end(self.zone).date(), time(hour, minute), self.zone):
            return 0
        event = IncomingEvent("period.closed", ENTITY, {"period": period.label, "first": period.first.isoformat(),
                                                         "last": period.last.isoformat()}, f"summary:{period.label}")
        stored, _ = self.runtime.inbox.add(self.name, [event])
        return stored

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        """For `period.closed`: the period and the summary report's rows (`report.rows`), read now."""
        try:
            period = parse_period(str(event.payload.get("period", "")), self.today())
        except PeriodError as exc:
            raise PermanentError(str(exc)) from None
        result = self.summary(period)
        self.runtime.tracer.add(event.id, "read-back", f"time report {result.report} for {period.label}: {len(result.rows)} row(s)")
        total = sum(number(r.get("minutes")) or 0 for r in result.rows)
        return {"period": period.as_dict(), "total_minutes": round(total, 2), "hm": hm,
                "report": {"name": result.report, "columns": result.columns, "rows": result.rows, "problems": result.problems}}

    def summary(self, period: Period) -> Result:
        from connectors.reports.settings import DEFAULT_FILES
        from relay.config.errors import ConfigError
        from relay.reports.definitions import load_reports

        reports = self.runtime.config.connectors.get("reports")
        files = getattr(reports, "files", None) or DEFAULT_FILES
        name = self.settings.summary.report
        try:
            report = load_reports(self.runtime.config.base_dir, files).get(name)
        except ConfigError as exc:
            raise PermanentError(f"report definitions have problems: {exc}") from None
        if report is None or report.source != SOURCE or "period" not in report.params:
            raise PermanentError(f"connectors.time_reports.summary.report: {name!r} must be a report in {', '.join(files)} "
                                 f"with `source: {SOURCE}` and a `period` parameter")
        try:
            return run_report(self.runtime.store, report, {"period": period.label})
        except PlanfixUnavailable as exc:
            raise exc.cause from None

    def close(self) -> None:
        sources.withdraw(self.runtime.store, SOURCE)

"""Settings of the time reports (`connectors.time_reports` in config.yaml)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relay.config.fields import TimeZoneName


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntrySettings(Strict):
    """The time-tracking data tag ("Учет времени") and its fields: a field you name must exist in the tag; defaults are used where it has them."""

    data_tag: str = Field("Учет времени", description="data tag (\"analytics\") holding time entries, by name or id; empty: status periods only")
    date: str = Field("Дата", description="the entry's date field")
    minutes: str = Field("Минуты", description="minutes worked (number); used when filled")
    period: str = Field("Время", description="from–to time period; used when there are no minutes")
    employee: str = Field("Сотрудник", description="who worked (employee field)")
    note: str = Field("Комментарий", description="the entry's note (`row.note` in reports)")
    work_type: str = Field("Вид работ", description="kind of work (`row.work_type` in reports)")


class SummarySettings(Strict):
    """The staff-chat summary after each half-month: an event `period.closed` that a rule turns into a message."""

    report: str = Field("time-by-employee", description="the report definition whose rows the summary shows (source planfix:time, param `period`)")
    send_at: str = Field("10:00", description="local time on the day after a half-month ends when its summary is due")
    check_seconds: int = Field(600, ge=0, description="how often the scheduler leader looks for a half-month to report; 0: never")

    @field_validator("send_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("write a time of day as HH:MM, e.g. 10:00")
        return value.strip()


class TimeReportsSettings(Strict):
    """Tracked time per employee and project from Planfix (S23): report source `planfix:time`, a half-month summary."""

    timezone: TimeZoneName = Field("Europe/Moscow", description="periods and days begin at midnight in this time zone")
    work_status: str = Field("in_work", description="the status whose periods count as work: a role of connectors.planfix.statuses or a status name")
    entries: EntrySettings = EntrySettings()
    summary: SummarySettings = SummarySettings()


    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

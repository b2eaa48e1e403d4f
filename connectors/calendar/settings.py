"""Settings of the calendar feeds (`connectors.calendar` in config.yaml)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from relay.config.fields import TimeZoneName
from relay.templating import TemplateStr


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedEvent(Strict):
    """One kind of calendar entry: a date field (or a start/end pair) of a CRM entity, or its stage periods."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$", description="short id of the entry kind; part of every entry's UID")
    entity: Literal["deal", "item"] = Field("deal", description="deals, or smart-process items (with entity_type_id)")
    entity_type_id: int | None = Field(None, description="the smart process (entityTypeId) when entity is item")
    stages: bool = Field(False, description="one entry per stage the entity stayed in (start: entered, end: left)")
    start: str = Field("", description="field holding the date or moment, e.g. BEGINDATE, UF_CRM_PAYMENT_DATE, closedate")
    end: str = Field("", description="field holding the end, if the entry is a period (e.g. CLOSEDATE)")
    summary: TemplateStr = Field("{{ title }}", description="entry title; templates see `entity`, `title`, `stage_name` (stage entries)")
    description: TemplateStr = Field("", description="entry text (same variables as summary)")

    @model_validator(mode="after")
    def _what_to_show(self) -> "FeedEvent":
        if self.entity == "item" and self.entity_type_id is None:
            raise ValueError("entity: item needs entity_type_id (the smart process)")
        if not self.stages and not self.start:
            raise ValueError("set `start` (the date field) or `stages: true`")
        return self


class Feed(Strict):
    """One secret iCal address: GET /calendar/<token>.ics."""

    token: SecretStr = Field(min_length=32, description="the secret in the URL, at least 32 random characters "
                             "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'`); keep it in the environment")
    name: str = Field("CRM", description="calendar name shown by calendar apps (X-WR-CALNAME)")
    pipelines: list[str] = Field(default_factory=list, description="only deals of these pipelines (CATEGORY_ID), and items whose deal (parentId2) is in one; empty: all")
    responsible: list[str] = Field(default_factory=list, description="only entities whose responsible user id is one of these; empty: anyone")
    events: list[FeedEvent] = Field(min_length=1, description="which dates become calendar entries")

    @field_validator("pipelines", "responsible", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return [str(v) for v in value] if isinstance(value, list) else value

    @field_validator("events")
    @classmethod
    def _unique_names(cls, events: list[FeedEvent]) -> list[FeedEvent]:
        names = [e.name for e in events]
        if len(names) != len(set(names)):
            raise ValueError(f"event names must be unique within a feed (got {names})")
        return events


class CalendarSettings(Strict):
    """iCal feeds of CRM dates, built from what the relay last read of each deal and item."""

    timezone: TimeZoneName = Field("Europe/Moscow", description="time zone of timed entries (a VTIMEZONE is included)")
    uid_domain: str = Field("crm-relay", description="right-hand side of every entry's UID (stable across requests)")
    refresh_minutes: int = Field(60, ge=5, le=24 * 60, description="how often calendar apps are asked to refresh (REFRESH-INTERVAL)")
    stage_history_seconds: float = Field(60.0, ge=0, description="how often stage changes are collected from snapshots; 0: never")
    feeds: dict[str, Feed] = Field(default_factory=dict, description="feeds by name")


    @model_validator(mode="after")
    def _distinct_tokens(self) -> "CalendarSettings":
        tokens = [f.token.get_secret_value() for f in self.feeds.values()]
        if len(tokens) != len(set(tokens)):
            raise ValueError("two feeds share a token; give each feed its own")
        return self

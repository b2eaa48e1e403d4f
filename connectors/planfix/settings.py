"""Settings of the Planfix connector (`connectors.planfix` in config.yaml)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from relay.config.fields import TimeZoneName

DEFAULT_STATUSES: dict[str, list[str]] = {
    "new": ["Новая"],
    "in_work": ["В работе"],
    "approval": ["На согласовании"],
    "changes": ["Требуются правки"],
    "completed": ["Завершенная", "Выполненная"],
    "cancelled": ["Отменена", "Отмененная"],
    "paid": ["Оплачено", "Завершенная"],
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepSettings(Strict):
    """The reconciliation sweep: tasks changed since the last sweep, in case a scenario request was lost."""

    interval_seconds: int = Field(0, ge=0, description="how often to sweep; 0: never (scenario requests only)")
    overlap_minutes: int = Field(2, ge=0, le=120, description="look this far behind the cursor (Planfix dates have minute precision)")


class PlanfixSettings(Strict):
    """A Planfix account: REST API v2 with a token; scenario requests ("send HTTP request") arrive at /hooks/planfix."""

    account_url: str = Field(description="REST base URL, e.g. https://studio.planfix.com/rest (Account → Integrations → REST API)")
    token: SecretStr = Field(description="REST API token; it acts as the employee chosen when it was made (use a robot)")
    scenario_secret: SecretStr = Field(min_length=8, description="shared secret every scenario request must carry in `secret_header` "
                                                                 "or the `secret_param` query parameter (Planfix does not sign requests)")
    secret_header: str = Field("X-Relay-Secret", description="header carrying the scenario secret")
    secret_param: str = Field("key", description="query parameter carrying the scenario secret (for requests without custom headers)")
    statuses: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_STATUSES),
                                           description="status roles rules refer to (`status.entered('in_work')`) → the status names "
                                                       "in this account; a name in any language Planfix shows")
    chat_field: str = Field("Telegram chat id", description="task custom field (name or id) holding the client chat's id")
    client_marker: str = Field("", description="a comment whose text starts with this is for the client (besides comments "
                                               "addressed to a contact); empty: only the addressee counts")
    timezone: TimeZoneName = Field("Europe/Moscow", description="the token user's time zone: Planfix reads and writes dates in it")
    requests_per_second: float = Field(1.0, gt=0, le=100, description="request budget of this process (Planfix allows 1 per second)")
    timeout_seconds: float = Field(20.0, gt=0, le=300, description="one REST call")
    retries: int = Field(4, ge=1, le=10, description="tries of one call on timeouts, 5xx and rate limits before the worker retries the event")
    retry_wait_seconds: float = Field(0.5, gt=0, le=60, description="first wait between tries of one call; it doubles each time")
    max_wait_seconds: float = Field(30.0, ge=0, description="a rate-limit wait longer than this (the daily limit) goes back to the worker as a retry")
    sweep: SweepSettings = SweepSettings()

    @field_validator("account_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (Planfix serves the REST API over HTTPS only)")
        return value.rstrip("/")


    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

"""Settings of the Bitrix24 connector (`connectors.bitrix24` in config.yaml)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class SweepSettings(BaseModel):
    """The reconciliation sweep: catches changes whose webhook never arrived."""

    model_config = ConfigDict(extra="forbid")

    interval_seconds: float = Field(60.0, ge=1, description="how often the sweep lists recently modified entities; 0 turns it off")
    entities: list[str] = Field(default_factory=lambda: ["deal"], description="entity types to sweep (deal, company, contact)")
    overlap_seconds: float = Field(120.0, ge=0, description="look back this far before the cursor (clock skew, slow commits)")


class Bitrix24Settings(BaseModel):
    """A Bitrix24 portal: REST through an incoming webhook, events from an outgoing webhook."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr = Field(description="incoming webhook URL, e.g. https://portal.bitrix24.ru/rest/1/abc123/")
    application_token: SecretStr = Field(description="the outgoing webhook's application token (checked on every event)")
    member_id: str = Field("", description="if set, events from any other portal are refused")
    requests_per_second: float = Field(2.0, gt=0, description="leaky-bucket drain rate of the plan (2; Enterprise 5)")
    burst: int = Field(50, ge=1, description="leaky-bucket size of the plan (50; Enterprise 250)")
    shared_budget: bool = Field(True, description="draw every request from one leaky bucket kept in the store, so several "
                                                  "worker processes together stay within the portal's limit; off: each process paces alone")
    batch_linger_seconds: float = Field(0.05, ge=0, le=2, description="how long a call waits for others to share its batch request")
    timeout_seconds: float = Field(60.0, gt=0)
    sweep: SweepSettings = SweepSettings()

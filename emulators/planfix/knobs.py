"""Switches a test or benchmark flips at `/_emulator/knobs` (and `/_emulator/ratelimit`).

Defaults are Planfix's documented behaviour where it is documented (1 request/s, 20 000/day on
the base plan, scenario retries after 15 min / 30 min / 1 h / 1 h, a 3-minute pause after a
failed scenario request); the limit is off by default so functional tests are not throttled.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ScriptedError(BaseModel):
    """One canned fail envelope for the next API request whose path contains `path`."""

    model_config = ConfigDict(extra="forbid")

    path: str = ""
    status: int = 500
    code: int = 0
    error: str = "Rest API error"


class Knobs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limit: bool = Field(False, description="enforce 1 request per `min_interval` seconds per account")
    min_interval: float = Field(1.0, ge=0)
    daily_limit: int = Field(20_000, ge=0, description="plan budget shown in X-RateLimit-Remaining")
    enforce_daily: bool = Field(False, description="answer code 22 once the daily budget is spent")
    limit_status: int = Field(403, description="HTTP status of the code-22 answer (undocumented by Planfix)")
    defer_updates: int = Field(0, ge=0, description="the next N `POST /task/{id}` answer 202 and apply later")
    defer_seconds: float = Field(1.0, ge=0, description="how long a 202-queued update waits (clock seconds)")
    error_script: list[ScriptedError] = Field(default_factory=list)
    retry_delays: list[float] = Field(default_factory=lambda: [900.0, 1800.0, 3600.0, 3600.0],
                                      description="waits before each retry of a non-200 scenario request")
    failure_pause: float = Field(180.0, ge=0, description="no scenario request leaves for this long after a failure")
    hook_timeout: float = Field(30.0, gt=0, description="seconds to wait for the scenario target's answer")

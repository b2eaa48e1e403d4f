"""Emulator settings that are not Telegram facts but choices about how to compress Telegram's time.

Real Telegram retries a failed webhook for up to 24 hours with back-off up to two minutes; a test
cannot wait that long, so the retry schedule here is short and finite. Every knob can be changed
at runtime through POST /_emulator/settings; scripted errors (ScenarioRule) through
POST /_emulator/scenarios.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EmulatorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_answer_seconds: float = Field(15.0, gt=0,
                                           description="answerCallbackQuery later than this → 'query is too old'")
    long_poll_max_seconds: float = Field(50.0, ge=0, description="getUpdates timeout cap (the server's is 50)")
    webhook_retry_delays: list[float] = Field(
        default_factory=lambda: [0.05, 0.1, 0.2, 0.4, 0.8],
        description="pause before each redelivery of a failed update; when exhausted the update is dropped")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="how long one webhook POST may take")
    webhook_max_retry_after: float = Field(2.0, ge=0, description="cap on honouring our webhook's Retry-After header")
    strict_webhook_url: bool = Field(False, description="enforce HTTPS and ports 443/80/88/8443 like Telegram")
    update_ttl_seconds: float = Field(86400.0, gt=0, description="undelivered updates older than this are dropped")
    bot_delete_window_seconds: float = Field(48 * 3600.0, gt=0, description="bots may delete own messages this long")
    first_update_id: int = Field(100000001, ge=1)


class ScenarioRule(BaseModel):
    """Make the next `times` calls of `method` (in `chat_id`) fail with this error; times ≤ 0 = always."""

    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    chat_id: int | str | None = None
    times: int = 1
    error_code: int = 400
    description: str = "Bad Request: chat not found"
    parameters: dict[str, Any] | None = None
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None

"""Settings of the Fintablo connector (`connectors.fintablo` in config.yaml)."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(Strict):
    """Which bank operations a rule applies to; every condition given must hold (none given: all)."""

    direction: Literal["incoming", "outgoing", "any"] = Field("any", description="incoming (credit) or outgoing (debit) operations only")
    purpose: str | None = Field(None, description="regular expression searched in the payment purpose (case-insensitive)")
    counterparty: str | None = Field(None, description="regular expression searched in the counterparty's name (case-insensitive)")
    inn: list[str] = Field(default_factory=list, description="counterparty INNs")

    @field_validator("purpose", "counterparty")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value, re.I)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def matches(self, operation: dict[str, Any]) -> bool:
        incoming = operation.get("direction") == "C"
        counterparty = operation.get("counterparty") or {}
        if self.direction != "any" and incoming != (self.direction == "incoming"):
            return False
        if self.inn and str(counterparty.get("inn") or "") not in self.inn:
            return False
        if self.purpose and not re.search(self.purpose, str(operation.get("purpose") or ""), re.I):
            return False
        return not (self.counterparty and not re.search(self.counterparty, str(counterparty.get("name") or ""), re.I))


class CategoryRule(Match):
    """A cash-flow category (статья ДДС) for operations that match; the first matching rule wins."""

    category_id: int = Field(description="Fintablo category id")


class DirectionRule(Match):
    """A business line (направление) for operations that match; the first matching rule wins."""

    direction_id: int = Field(description="Fintablo direction id")


class FintabloSettings(Strict):
    """Fintablo (ФинТабло): bank operations become transactions, CRM deals become deals."""

    base_url: str = Field("https://api.fintablo.ru", description="API base URL (paths are /v1/...)")
    token: SecretStr = Field(description="API token (Настройки → API), sent as a Bearer token")
    moneybags: dict[str, int] = Field(default_factory=dict, description="our bank account number (20 digits) → Fintablo moneybag id")
    categories: list[CategoryRule] = Field(default_factory=list, description="category rules, first match wins; no match: Fintablo's built-in unallocated category")
    directions: list[DirectionRule] = Field(default_factory=list, description="direction (направление) rules, first match wins; no match: none")
    partner_group_id: int | None = Field(None, description="group for partners the relay creates")
    create_partners: bool = Field(True, description="create a partner when none has the counterparty's INN")
    requests_per_minute: int = Field(300, ge=1, le=300, description="budget shared by everything in this process (Fintablo allows 300 a minute)")
    retries: int = Field(5, ge=1, le=20, description="tries of one request on 429, 5xx or a timeout before the event is retried later")
    retry_wait_seconds: float = Field(2.0, ge=0, le=60, description="first pause between tries; doubles each time")
    timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("moneybags")
    @classmethod
    def _accounts(cls, value: dict[str, int]) -> dict[str, int]:
        for account in value:
            if not (len(account) == 20 and account.isdigit()):
                raise ValueError(f"{account!r} is not a 20-digit account number")
        return value

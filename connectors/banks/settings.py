"""Settings of the bank connector (`connectors.bank` in config.yaml): one section per bank.

A section that is absent turns that bank off. Account lists are required: they are how a webhook
or a file tells our side of a payment from the counterparty's, and what the pollers ask for.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PollSettings(Strict):
    """How a statement poller walks forward; shared by Tochka and T-Bank."""

    poll_interval_seconds: float = Field(600.0, ge=0, description="how often statements are polled; 0 turns polling off (webhooks or files only)")
    start_date: date | None = Field(None, description="the first poll starts on this date (YYYY-MM-DD); default: today, Moscow time")
    overlap_days: int = Field(2, ge=0, le=30, description="each poll re-reads this many days before the cursor (late postings); repeats are recognised, not stored twice")
    timeout_seconds: float = Field(30.0, gt=0)


class TochkaSettings(PollSettings):
    """Tochka Open API: statements by polling, payments by signed webhooks."""

    base_url: str = Field("https://enter.tochka.com/uapi", description="API base URL (sandbox: https://enter.tochka.com/sandbox/v2)")
    token: SecretStr = Field(description="the JWT key issued in the internet bank (Интеграции и API), with ReadStatements")
    accounts: list[str] = Field(min_length=1, description="accountId values `<20-digit account>/<BIC>`, e.g. 40702810575689348581/044525104")
    webhook_jwk: str = Field("", description="Tochka's public key for webhooks: the JWK JSON itself or a path to a file holding it (https://enter.tochka.com/doc/openapi/static/keys/public); empty refuses every webhook")
    statement_polls: int = Field(10, ge=1, le=100, description="status checks of a requested statement per run; one still Processing is checked again next run")
    statement_poll_seconds: float = Field(2.0, ge=0, le=60, description="pause between two status checks")

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        for account in value:
            number, _, bik = account.partition("/")
            if not (len(number) == 20 and number.isdigit() and len(bik) == 9 and bik.isdigit()):
                raise ValueError(f"{account!r} is not an accountId `<20 digits>/<9-digit BIC>`")
        return value

    @field_validator("webhook_jwk")
    @classmethod
    def _jwk(cls, value: str) -> str:
        if value.strip():
            load_jwk_keys(value)
        return value

    @property
    def account_numbers(self) -> set[str]:
        return {a.split("/")[0] for a in self.accounts}


class TBankSettings(PollSettings):
    """T-Bank business API: the current statement, read page by page with `nextCursor`."""

    base_url: str = Field("https://business.tbank.ru/openapi", description="API base URL")
    token: SecretStr = Field(description="T-API token (Т-Бизнес → Интеграции, scope «Счета и выписки»)")
    accounts: list[str] = Field(min_length=1, description="20-digit account numbers")
    page_size: int = Field(1000, ge=1, le=5000, description="operations per statement page (`limit`)")
    requests_per_second: float = Field(10.0, gt=0, le=20, description="stay under T-Bank's 20 requests/second")

    @field_validator("accounts")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        for account in value:
            if not (len(account) == 20 and account.isdigit()):
                raise ValueError(f"{account!r} is not a 20-digit account number")
        return value


class OneCSettings(Strict):
    """Uploads of 1C statement files (kl_to_1c.txt) to POST /hooks/bank/onec."""

    token: SecretStr = Field(description="shared secret the uploader sends in `header`")
    header: str = Field("X-Relay-Token", description="request header carrying the token")


class BankSettings(Strict):
    """Bank feeds: Tochka (webhooks + statements), T-Bank (statements), 1C files (upload or CLI)."""

    tochka: TochkaSettings | None = None
    tbank: TBankSettings | None = None
    onec: OneCSettings | None = None
    tolerance_days: int = Field(3, ge=0, le=10, description="a route whose posting date differs by up to this many days still matches a known payment (same account, number, amount, counterparty account)")


def load_jwk_keys(value: str) -> list[Any]:
    """Public keys from a JWK, a JWKS (`{"keys": [...]}`), or a file holding either.

    Tochka serves one bare JWK; some setups keep a JWKS. Raises ValueError with the reason."""
    text = value.strip()
    if not text.startswith("{"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"webhook_jwk is neither JWK JSON nor a readable file: {text!r}")
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        items = data["keys"] if isinstance(data, dict) and "keys" in data else [data]
        return [jwt.PyJWK(item).key for item in items]
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise ValueError(f"webhook_jwk is not a usable RSA JWK: {exc}") from None

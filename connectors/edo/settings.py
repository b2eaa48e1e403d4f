"""Settings of the EDO connector (`connectors.edo` in config.yaml): Kontur.Diadoc and/or SBIS."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

SBIS_TIME = "%d.%m.%Y %H.%M.%S"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DiadocSettings(Strict):
    """Kontur.Diadoc: the box's event feed (GetNewEvents), read after the last IndexKey."""

    base_url: str = Field("https://diadoc-api.kontur.ru", description="API address (staging: https://diadoc-api-staging.kontur.ru)")
    token: SecretStr = Field(description="OpenID Connect access token (`Authorization: Bearer`); keep it in the environment")
    box_id: str = Field(min_length=1, description="our box id, e.g. 1a2b…@diadoc.ru")
    poll_interval_seconds: float = Field(300.0, ge=0, description="how often the feed is read; 0: never (tests call poll())")
    requests_per_second: float = Field(10.0, gt=0, le=100, description="pacing (Diadoc allows 100 RPS with up to 4 threads)")
    timeout_seconds: float = Field(30.0, gt=0)


class SbisSettings(Strict):
    """SBIS (Saby): the change list (СБИС.СписокИзменений) after the last event seen."""

    base_url: str = Field("https://online.sbis.ru", description="API address; /auth/service/ and /service/?srv=1 are under it")
    login: str = Field(min_length=1, description="the API user's login")
    password: SecretStr = Field(description="its password; keep it in the environment")
    inn: str = Field(pattern=r"^\d{10}(\d{2})?$", description="our organisation's INN (НашаОрганизация)")
    kpp: str = Field("", pattern=r"^(\d{9})?$", description="and KPP, for a legal entity")
    start: str = Field("", description="first run: changes since this moment (`dd.mm.yyyy hh.mm.ss`, Moscow time); empty: from the first run on")
    poll_interval_seconds: float = Field(300.0, ge=0, description="how often the change list is read; 0: never (tests call poll())")
    timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("start")
    @classmethod
    def _moment(cls, value: str) -> str:
        if value:
            try:
                datetime.strptime(value, SBIS_TIME)
            except ValueError:
                raise ValueError("expected dd.mm.yyyy hh.mm.ss, e.g. 01.02.2026 00.00.00 (SBIS refuses a date without a time)") from None
        return value


class EdoSettings(Strict):
    """Electronic documents: signed or rejected contracts and acts become events for rules (source `edo`)."""

    diadoc: DiadocSettings | None = None
    sbis: SbisSettings | None = None

    @model_validator(mode="after")
    def _something(self) -> "EdoSettings":
        if self.diadoc is None and self.sbis is None:
            raise ValueError("configure `diadoc`, `sbis` or both")
        return self

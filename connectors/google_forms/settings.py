"""Settings of the Google Forms connector (`connectors.forms` in config.yaml)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_ENTRY = re.compile(r"^(?:entry\.)?(\d+)$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def entry_number(value: str) -> str:
    """`entry.1234567` or `1234567` → `1234567` (the number in a pre-filled link's `entry.<id>=`)."""
    m = _ENTRY.match(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a pre-filled entry id (write it as entry.1234567, as in the form's pre-filled link)")
    return m.group(1)


class FormSettings(Strict):
    """One Google Form: how its submissions are authenticated, where the task and contact ids are, how answers map."""

    secret: SecretStr = Field(min_length=16, description="shared HMAC secret; the same string is the Apps Script property RELAY_SECRET")
    form_id: str = Field("", description="the form's id as Apps Script and the Forms API see it (the part after /forms/d/ in the editor's URL); "
                                         "set: submissions naming another form are refused; needed for polling")
    url: str = Field("", description="the form's public address (…/viewform), the base of pre-filled links")
    task_entry: str = Field("", description="pre-filled entry carrying the task id, e.g. entry.1234567")
    contact_entry: str = Field("", description="pre-filled entry carrying the contact id, e.g. entry.7654321")
    task_question: str = Field("", description="instead of (or besides) task_entry: the question's title or id holding the task id")
    contact_question: str = Field("", description="instead of (or besides) contact_entry: the question's title or id holding the contact id")
    mapping: str = Field("", description="the mapping whose `values.questions` turn answers into fields (mappings/brief.yaml)")
    entity_key: str = Field("planfix:task:{task}", description="entity key of a submission that names its task (`{task}` is replaced); "
                                                               "one without a task is `forms:<form>:<responseId>`")
    max_skew_seconds: int = Field(300, ge=10, le=86_400, description="a signed timestamp further than this from the relay's clock is refused (replays)")
    max_body_bytes: int = Field(262_144, ge=1024, le=10_485_760, description="larger submissions are refused with 413")

    @field_validator("task_entry", "contact_entry")
    @classmethod
    def _entry(cls, value: str) -> str:
        return entry_number(value) if value.strip() else ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be the form's https:// address (Send → link)")
        return value.split("?", 1)[0]


class PollSettings(Strict):
    """Fallback polling of forms.responses.list for submissions whose push was lost."""

    service_account: SecretStr = Field(description="the service account's JSON key itself, or the path of the key file; the form must be "
                                                   "shared with the account's client_email")
    interval_seconds: float = Field(900.0, ge=0, description="how often to poll; 0 turns polling off")
    api_url: str = Field("https://forms.googleapis.com", description="Forms API base URL (the emulator in tests)")
    token_url: str = Field("", description="OAuth token endpoint; empty: the key file's token_uri")
    overlap_seconds: int = Field(600, ge=0, le=86_400, description="each poll re-reads this far behind the newest submission seen (late writes); "
                                                                   "repeats are recognised by responseId")
    page_size: int = Field(100, ge=1, le=5000, description="responses per page")
    timeout_seconds: float = Field(20.0, gt=0, le=120)


def service_account_key(value: str, base_dir: Path) -> dict[str, Any]:
    """The service-account key as a dict, from its JSON or a file holding it (relative to config.yaml).
    Raises ValueError naming what is wrong, never quoting the key."""
    text = value.strip()
    if not text.startswith("{"):
        path = base_dir / Path(text).expanduser()  # an absolute path stays as it is
        if not path.is_file():
            raise ValueError(f"service_account is neither the JSON key nor the path of a readable key file ({path} does not exist)")
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"service_account key is not JSON: {exc.__class__.__name__}") from None
    missing = [k for k in ("client_email", "private_key", "token_uri") if not isinstance(data, dict) or not data.get(k)]
    if missing:
        raise ValueError(f"service_account key lacks {', '.join(missing)} (download a JSON key of the service account)")
    return data


class FormsSettings(Strict):
    """Google Forms: submissions pushed by an Apps Script trigger to /hooks/forms/<form>, optional API polling."""

    forms: dict[str, FormSettings] = Field(default_factory=dict, description="forms by name; the name is the webhook path /hooks/forms/<name>")
    poll: PollSettings | None = Field(None, description="fallback polling with a service account; absent: push only")

    @field_validator("forms")
    @classmethod
    def _names(cls, value: dict[str, FormSettings]) -> dict[str, FormSettings]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"form name {name!r} must be letters, digits, '-' or '_' (it is the path /hooks/forms/<name>)")
        return value

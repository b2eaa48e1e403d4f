"""Settings of the tree reports (`connectors.reports` in config.yaml)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_FILES = ["reports/*.yaml"]


class ReportsSettings(BaseModel):
    """Reports over the deal tree and holdings, as CSV or JSON: GET /reports/<name>.csv|.json and `app.py report`."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] = Field(default_factory=lambda: list(DEFAULT_FILES), description="report definition files (globs, relative to config.yaml)")
    token: SecretStr | None = Field(None, min_length=32, description="bearer token for GET /reports/... (BI tools, spreadsheets); "
                                    "absent: reports are only at /admin/reports/... for a logged-in admin")

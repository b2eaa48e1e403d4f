"""The reports connector: definitions from YAML, run over the store, served to admins and BI tools."""
from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from connectors.reports.settings import ReportsSettings
from relay.config.errors import ConfigError
from relay.reports.definitions import ReportDef, load_reports
from relay.reports.engine import Result, run_report

if TYPE_CHECKING:
    from flask import Blueprint

    from relay.runtime import Runtime

log = logging.getLogger("relay.reports")


class ReportsConnector:
    name = "reports"

    def __init__(self, settings: ReportsSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self._token = hashlib.sha256(settings.token.get_secret_value().encode()).digest() if settings.token else None
        try:
            self.definitions()
        except ConfigError as exc:  # said at start, and again by every request until the file is fixed
            for problem in exc.problems:
                log.error("report definitions: %s", problem)

    def definitions(self) -> dict[str, ReportDef]:
        """Read afresh each time: an admin's edit shows on the next request, no restart needed."""
        return load_reports(self.runtime.config.base_dir, self.settings.files)

    def run(self, name: str, params: dict[str, str]) -> Result | None:
        report = self.definitions().get(name)
        return None if report is None else run_report(self.runtime.store, report, params)

    def token_ok(self, given: str) -> bool:
        if self._token is None or not given:
            return False
        return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), self._token)

    def blueprints(self) -> list["Blueprint"]:
        from connectors.reports.web import build_blueprint
        return [build_blueprint(self)]

    def admin(self) -> Any:
        return self.runtime.config.settings.admin

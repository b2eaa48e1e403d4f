"""The shape of `config.yaml`. Unknown keys are errors: a typo must never pass silently."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from relay.templating import TemplateStr


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StoreConfig(Strict):
    """Where the relay keeps events, effects, timers and traces."""

    url: str = Field("sqlite:///relay.db", description="SQLAlchemy URL: sqlite:///file.db or postgresql+psycopg://user:pass@host/db")


class WebConfig(Strict):
    """The HTTP server: intake endpoints, health, metrics, admin."""

    host: str = Field("127.0.0.1", description="address the web server binds to")
    port: int = Field(8080, ge=0, le=65535, description="TCP port; 0 picks a free one")
    threads: int = Field(8, ge=1, le=256, description="waitress worker threads")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="larger request bodies are refused with 413")


class WorkerConfig(Strict):
    """How events are processed: parallelism, leases, retries."""

    threads: int = Field(4, ge=1, le=64, description="events processed at once (never two of one entity)")
    poll_seconds: float = Field(0.2, gt=0, le=60, description="how often an idle worker looks for work")
    lease_seconds: float = Field(30.0, ge=1, description="a claimed event whose worker stops renewing for this long is taken over")
    max_attempts: int = Field(8, ge=1, le=100, description="tries before an event goes to dead letters")
    backoff_initial_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(300.0, gt=0)
    outage_patience_hours: float = Field(72.0, gt=0, description="while an outside system is unreachable (connection refused, "
                                         "timeout, 5xx) events wait without using up attempts, up to this long after they arrived")


class SchedulerConfig(Strict):
    """Timers and periodic jobs; one process leads at a time."""

    tick_seconds: float = Field(1.0, gt=0, le=3600, description="how often due timers are fired")


class LoggingConfig(Strict):
    """Logs go to stderr; secrets are always redacted."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "text"] = "json"


class WebhookSourceConfig(Strict):
    """A generic JSON webhook (n8n, Albato, a script): authenticated by HMAC or a shared token."""

    type: Literal["webhook"]
    auth: Literal["hmac-sha256", "token"] = Field("hmac-sha256", description="hmac-sha256: hex HMAC of the body in `header`; token: the secret itself in `header`")
    header: str = "X-Relay-Signature"
    secret: SecretStr
    kind: TemplateStr = Field("webhook", description="event kind, a template over `payload` and `headers`")
    entity_key: TemplateStr = Field("", description="events with the same key are processed in order, one at a time; empty: each event is its own entity")
    idempotency_key: TemplateStr = Field("", description="template giving the sender's event id; empty: a hash of the body")


class SandboxEmulator(Strict):
    """One built-in emulator started by `app.py run` / `app.py sandbox` in sandbox mode."""

    port: int = Field(ge=0, le=65535, description="loopback port the emulator listens on")
    seed: str = Field("", description="seed file with the demo data (relative to config.yaml); empty: the emulator's own demo seed")


class SandboxConfig(Strict):
    """Sandbox mode: the relay starts these local emulators and points its connectors at them instead
    of real accounts (docs/sandbox.md). A listed emulator runs even if no connector uses it."""

    bitrix24: SandboxEmulator | None = Field(None, description="Bitrix24 portal (connector `bitrix24`)")
    telegram: SandboxEmulator | None = Field(None, description="Telegram Bot API (connector `telegram`)")
    fintablo: SandboxEmulator | None = Field(None, description="Fintablo API (connector `fintablo`)")
    tochka: SandboxEmulator | None = Field(None, description="Tochka Bank Open API (connector `bank`, section `tochka`)")
    tbank: SandboxEmulator | None = Field(None, description="T-Bank business API (connector `bank`, section `tbank`)")
    planfix: SandboxEmulator | None = Field(None, description="Planfix REST v2 and its scenario requests (connector `planfix`)")
    google_forms: SandboxEmulator | None = Field(None, description="Google Forms API and the forms' Apps Script pushes (connector `forms`)")


class LoginLimitConfig(Strict):
    """Failed admin logins allowed before /admin/login answers 429; counted in the store, so every
    web process and host shares the count."""

    per_address: int = Field(5, ge=1, description="failed logins from one client address within the window")
    per_user: int = Field(20, ge=1, description="failed logins of the admin account from all addresses within the window "
                                                "(higher than per_address: anyone can spend it and lock the admin out)")
    window_minutes: float = Field(15.0, gt=0, le=24 * 60, description="a failure counts for this long")
    address_header: str = Field("", description="only behind a reverse proxy that sets it: the header carrying the client address, "
                                                "e.g. X-Real-IP (X-Forwarded-For: its last entry; waitress drops that header); empty: the TCP peer")


class AdminConfig(Strict):
    """The admin web UI at /admin. Absent: /admin answers 404 (the UI never runs without a password)."""

    password_hash: SecretStr = Field(description="werkzeug password hash, e.g. `${RELAY_ADMIN_PASSWORD_HASH}` (see docs/admin.md)")
    secret_key: SecretStr = Field(min_length=16, description="signs the admin session cookie; a long random string from the environment")
    secure_cookie: bool = Field(False, description="send the session cookie only over HTTPS (turn on behind TLS)")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="how long a login lasts")
    login_limit: LoginLimitConfig = Field(LoginLimitConfig(), description="failed-login limits (429 with Retry-After)")


class CalendarConfig(Strict):
    """Working days ("2 working days" timers, working_hours()): the country's public holidays and official transfers."""

    country: str = Field("RU", description="country code for the `holidays` package; RU includes the transferred working Saturdays")
    overrides: str = Field("", description="file (relative to config.yaml) patching late decrees: `holidays: [2026-12-31]`, `workdays: [2026-12-26]`")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        import holidays
        if value not in holidays.list_supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows (e.g. RU, BY, KZ, UA)")
        return value


class RelayConfig(Strict):
    mode: Literal["live", "sandbox"] = Field("live", description="sandbox: `run` also starts the emulators listed under `sandbox`")
    sandbox: SandboxConfig = SandboxConfig()
    store: StoreConfig = StoreConfig()
    web: WebConfig = WebConfig()
    worker: WorkerConfig = WorkerConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    calendar: CalendarConfig = CalendarConfig()
    logging: LoggingConfig = LoggingConfig()
    admin: AdminConfig | None = Field(None, description="the admin web UI; absent: no UI")
    sources: dict[str, dict] = Field(default_factory=dict, description="inbound webhooks by name: POST /hooks/<name>")
    connectors: dict[str, dict] = Field(default_factory=dict, description="outside systems by name, each with its own settings")
    rules: list[str] = Field(default_factory=lambda: ["rules/*.yaml"], description="rule files (globs, relative to config.yaml); *_test.yaml files are rule tests")
    mappings: list[str] = Field(default_factory=lambda: ["mappings/*.yaml"], description="mapping files (globs)")
    plugins: list[str] = Field(default_factory=list, description="Python modules imported at start; they may register actions and source types")

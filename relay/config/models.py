"""The shape of `config.yaml`. Unknown keys are errors: a typo must never pass silently."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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
    """One built-in emulator started by `app.py run` in sandbox mode."""

    port: int = Field(ge=0, le=65535, description="loopback port the emulator listens on")
    seed: str = Field(description="seed file with the demo data (relative to config.yaml)")


class SandboxConfig(Strict):
    """Sandbox mode: the relay starts local emulators and connects to them instead of real accounts."""

    bitrix24: SandboxEmulator | None = None


class AdminConfig(Strict):
    """The admin web UI at /admin. Absent: /admin answers 404 (the UI never runs without a password)."""

    password_hash: SecretStr = Field(description="werkzeug password hash, e.g. `${RELAY_ADMIN_PASSWORD_HASH}` (see docs/admin.md)")
    secret_key: SecretStr = Field(min_length=16, description="signs the admin session cookie; a long random string from the environment")
    secure_cookie: bool = Field(False, description="send the session cookie only over HTTPS (turn on behind TLS)")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="how long a login lasts")


class RelayConfig(Strict):
    mode: Literal["live", "sandbox"] = Field("live", description="sandbox: `run` also starts the emulators listed under `sandbox`")
    sandbox: SandboxConfig = SandboxConfig()
    store: StoreConfig = StoreConfig()
    web: WebConfig = WebConfig()
    worker: WorkerConfig = WorkerConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    logging: LoggingConfig = LoggingConfig()
    admin: AdminConfig | None = Field(None, description="the admin web UI; absent: no UI")
    sources: dict[str, dict] = Field(default_factory=dict, description="inbound webhooks by name: POST /hooks/<name>")
    connectors: dict[str, dict] = Field(default_factory=dict, description="outside systems by name, each with its own settings")
    rules: list[str] = Field(default_factory=lambda: ["rules/*.yaml"], description="rule files (globs, relative to config.yaml); *_test.yaml files are rule tests")
    mappings: list[str] = Field(default_factory=lambda: ["mappings/*.yaml"], description="mapping files (globs)")
    plugins: list[str] = Field(default_factory=list, description="Python modules imported at start; they may register actions and source types")

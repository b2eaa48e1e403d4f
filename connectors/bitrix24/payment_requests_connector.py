"""The `payment_requests` connector: the daily registry for accountants and the "request paid" events.

Both arrive as inbox events of source `payment_requests`, so rules decide what to send where:

* `registry.daily` — queued by a periodic job on every working day (the official Russian calendar)
  once the configured local time has passed. Its idempotency key is the date, so the day has one
  event however many schedulers tick, and a `send_message` on it sends once per day.
  Rules see `registry` (the approved, unpaid requests, read from the portal when it is processed).
* `request.paid` — queued by `payment_request_pay` when a bank payment settles a request, keyed by
  request and operation, so the contractor is told once whatever is replayed. Rules see `request`
  and `operation` (the bank operation) and `payment` (it in words).
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.bitrix24.payment_requests_portal import RequestsPortal
from connectors.bitrix24.payment_requests_setup import check_setup, money_text, request_view
from relay.config.errors import ConfigError, ConfigProblem
from relay.config.fields import TimeZoneName
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent
from relay.registry import register_connector

if TYPE_CHECKING:
    from relay.runtime import Runtime

SOURCE = "payment_requests"


class RegistrySettings(BaseModel):
    """The daily registry of approved, unpaid requests (one `registry.daily` event per working day)."""

    model_config = ConfigDict(extra="forbid")

    at: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local time (HH:MM) after which the day's registry is due")
    timezone: TimeZoneName = Field("Europe/Moscow", description="IANA time zone of `at` and of the date")
    check_seconds: float = Field(300.0, ge=0, description="how often the scheduler looks whether the registry is due; 0 turns it off")



class SmtpSettings(BaseModel):
    """The mail server `payment_request_email` sends through. Absent: e-mails are noted in the trace, not sent."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(description="SMTP server, e.g. smtp.yandex.ru")
    port: int = Field(587, ge=1, le=65535, description="587 for starttls, 465 for ssl, 25 for a relay on the host")
    security: str = Field("starttls", pattern=r"^(starttls|ssl|none)$", description="starttls (port 587), ssl (port 465) or none")
    username: str = Field("", description="login; empty: no authentication")
    password: SecretStr | None = Field(None, description="write it as ${SMTP_PASSWORD}; redacted everywhere")
    sender: str = Field(description="From: address, e.g. 'Бухгалтерия <buh@example.ru>'")
    timeout_seconds: float = Field(20.0, gt=0, description="one SMTP session")


class PaymentRequestsSettings(BaseModel):
    """Payment requests on a Bitrix24 smart process: daily registry, paid notifications, optional SMTP."""

    model_config = ConfigDict(extra="forbid")

    mapping: str = Field("payment_requests", description="the mapping describing the smart process (mappings/payment_requests.yaml)")
    registry: RegistrySettings = RegistrySettings()
    smtp: SmtpSettings | None = None


class PaymentRequestsConnector:
    name = SOURCE

    def __init__(self, settings: PaymentRequestsSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self._at = time.fromisoformat(settings.registry.at)
        self._zone = ZoneInfo(settings.registry.timezone)
        # Refuse to start rather than fail every registry and payment later.
        config = runtime.config
        setup, problems = check_setup(config.mappings, settings.mapping, config.base_dir)
        if "bitrix24" not in config.connectors:
            problems.append(ConfigProblem(config.file, None, "connectors.payment_requests",
                                          "needs the bitrix24 connector (the requests live in the portal)"))
        if setup is None or problems:
            raise ConfigError(problems)
        self.setup = setup

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        seconds = self.settings.registry.check_seconds
        return [(seconds, self.registry_tick, "payment-requests-registry")] if seconds else []

    def registry_tick(self, now: datetime | None = None) -> bool:
        """Queue today's `registry.daily` if today is a working day and its time has come; True if queued now."""
        local = (now or datetime.now(timezone.utc)).astimezone(self._zone)
        if local.time() < self._at or not self.runtime.calendar.is_working_day(local.date()):
            return False
        day = local.date().isoformat()
        stored, _ = self.runtime.inbox.add(SOURCE, [IncomingEvent(kind="registry.daily", entity_key=f"{SOURCE}:registry",
                                                                  idem_key=f"registry:{day}", payload={"date": day})])
        return stored > 0

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        if event.kind == "registry.daily":
            return {"registry": self.registry(date.fromisoformat(str(event.payload["date"])))}
        return {"request": event.payload.get("request") or {}, "operation": event.payload.get("operation") or {},
                "payment": event.payload.get("payment", "")}

    def registry(self, day: date) -> dict[str, Any]:
        """The approved, unpaid requests as the portal shows them now, earliest pay-by date first."""
        setup = self.setup
        portal = RequestsPortal(self.runtime.connector("bitrix24"), setup)
        requests = [request_view(item, setup) for item in portal.in_stage(setup.stages.approved)]
        requests.sort(key=lambda r: (r["pay_by"] or "9999-12-31", r["id"] if isinstance(r["id"], int) else 0))
        totals: dict[str, int] = {}
        for request in requests:
            request["overdue"] = bool(request["pay_by"]) and request["pay_by"] < day.isoformat()
            totals[request["currency"]] = totals.get(request["currency"], 0) + request["amount_kopecks"]
        return {"date": day.isoformat(), "date_text": day.strftime("%d.%m.%Y"), "requests": requests, "count": len(requests),
                "total_text": " + ".join(money_text(amount, currency) for currency, amount in totals.items()) or money_text(0)}

    def close(self) -> None:
        pass


def paid_event(request: dict[str, Any], operation: dict[str, Any], payment: str) -> IncomingEvent:
    """`request.paid` for one request and one bank operation: one event, however often the payment is seen.
    `payment` is the operation in words (`п/п № 315 от 03.03.2025, 48 500,75 ₽`)."""
    return IncomingEvent(kind="request.paid", entity_key=f"{SOURCE}:request:{request['id']}",
                         idem_key=f"paid:{request['id']}:{operation.get('key', '')}"[:240],
                         payload={"request": request, "operation": operation, "payment": payment})


def register() -> None:
    register_connector(SOURCE, PaymentRequestsSettings, lambda settings, runtime: PaymentRequestsConnector(settings, runtime))


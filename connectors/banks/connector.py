"""The live bank connector: intake routes, statement pollers, and the operation in rule context."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from connectors.banks.operations import Operations
from connectors.banks.settings import BankSettings
from connectors.banks.source import BankSource
from connectors.banks.tbank import TBankPoller
from connectors.banks.tochka import TochkaPoller
from relay.inbox import Claimed

if TYPE_CHECKING:
    from relay.runtime import Runtime


class BankConnector:
    name = "bank"

    def __init__(self, settings: BankSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.operations = Operations(runtime.store, settings.tolerance_days)
        self.tochka = TochkaPoller(settings.tochka, self.operations) if settings.tochka else None
        self.tbank = TBankPoller(settings.tbank, self.operations) if settings.tbank else None

    def sources(self) -> dict[str, BankSource]:
        return {"bank": BankSource(self.settings, self.operations)}

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        """Rules see `operation`: the stored row as it is now (every route that reported it so far),
        falling back to the event's payload; `purpose` is its parsed purpose (invoice, contract, VAT)."""
        operation = self.operations.get(str(event.payload.get("key", ""))) or dict(event.payload)
        return {"operation": operation, "purpose": operation.get("purpose_fields") or {}}

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        jobs: list[tuple[float, Callable[[], object], str]] = []
        if self.tochka and self.settings.tochka and self.settings.tochka.poll_interval_seconds:
            jobs.append((self.settings.tochka.poll_interval_seconds, self.tochka.poll, "bank-tochka-statements"))
        if self.tbank and self.settings.tbank and self.settings.tbank.poll_interval_seconds:
            jobs.append((self.settings.tbank.poll_interval_seconds, self.tbank.poll, "bank-tbank-statements"))
        return jobs

    def close(self) -> None:
        for poller in (self.tochka, self.tbank):
            if poller is not None:
                poller.close()

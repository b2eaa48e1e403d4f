"""T-Bank emulator state: our company and accounts, the payment ledger, limits, webhook subscriptions.

The ledger is the shared payment model, so the same payment can be read back as a statement
operation, an `oper-feed-operation` webhook or a 1C file line.
"""
from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from emulators.common.clock import MSK, Clock
from emulators.common.payment_control import DocumentNumbers
from emulators.common.payments import Ledger, Party, Payment, PaymentSpec, build_payment, money
from emulators.common.ratelimit import SlidingWindowLimiter
from emulators.common.webhook_sender import Delivery, RetryPolicy, WebhookSender
from emulators.tbank import shapes


class Knobs(BaseModel):
    """Run-time switches, steered at `/_emulator/knobs`."""

    statement_rps: int = Field(20, ge=0, description="`/api/v1/statement`: requests per second per token")
    legacy_rps: int = Field(10, ge=0, description="`/api/v1/bank-statement`: requests per second per token")
    default_limit: int = Field(1000, ge=1, description="page size when `limit` is not given (unverified)")
    max_limit: int = Field(5000, ge=1)
    webhook_sync: bool = True
    webhook_max_attempts: int = Field(5, ge=1)
    webhook_retry_interval: float = Field(30.0, ge=0)
    webhook_timeout: float = Field(5.0, gt=0)
    webhook_amounts_as_strings: bool = False
    webhook_operation_id_differs: bool = Field(False, description="webhook operationId differs from the statement's")
    webhook_duplicates: int = Field(0, ge=0, description="send each webhook this many extra times")


class TBankState:
    """One T-Bank business customer."""

    def __init__(self, seed: dict[str, Any], clock: Clock, webhook_sync: bool = True) -> None:
        self.seed, self.clock, self.default_sync = seed, clock, webhook_sync
        self.lock = threading.RLock()
        self.sender = WebhookSender()
        self.statement_limiter = SlidingWindowLimiter(20, 1.0, clock)
        self.legacy_limiter = SlidingWindowLimiter(10, 1.0, clock)
        self.load()

    def load(self) -> None:
        with self.lock:
            c = self.seed["company"]
            self.company = c
            self.owners: dict[str, Party] = {}
            self.numbers = DocumentNumbers()
            self.account_meta: dict[str, dict[str, Any]] = {}
            opening: dict[str, Decimal] = {}
            for a in self.seed["accounts"]:
                party = Party(c["name"], str(c["inn"]), str(c.get("kpp", "")), str(a["account"]), str(a["bik"]))
                self.owners[party.account] = party
                self.numbers.add(party.account, int(a.get("next_document_number", 1)),
                                 int(a.get("next_incoming_number", 301)))
                self.account_meta[party.account] = a
                opening[party.account] = money(a.get("opening_balance", 0))
            self.ledger = Ledger(opening)
            self.tokens: set[str] = {str(t) for t in self.seed.get("tokens", [])}
            self.webhooks: dict[str, dict[str, Any]] = {}
            self.set_knobs(Knobs(webhook_sync=self.default_sync))
            self.statement_limiter.reset()
            self.legacy_limiter.reset()
            self.sender.reset()
            for spec in self.seed.get("payments", []) or []:
                self.add_payment(PaymentSpec.model_validate(spec), notify=False)

    def set_knobs(self, knobs: BaseModel) -> None:
        assert isinstance(knobs, Knobs)
        self.knobs = knobs
        self.statement_limiter.configure(knobs.statement_rps, 1.0)
        self.legacy_limiter.configure(knobs.legacy_rps, 1.0)

    def owner(self, account: str | None) -> Party:
        if account is None:
            return next(iter(self.owners.values()))
        return self.owners[account.split("/")[0]]

    def add_payment(self, spec: PaymentSpec, notify: bool = True, sync: bool | None = None
                    ) -> tuple[Payment, list[Delivery]]:
        """"A payment happens" on one of our accounts; booked ones also fire `oper-feed-operation`."""
        with self.lock:
            owner = self.owner(spec.account)
            now = datetime.fromtimestamp(self.clock.now(), MSK)
            number = spec.document_number or self.numbers.next(owner.account, spec.direction)
            payment = build_payment(spec, owner, now, number)
            payment.ids.setdefault("operationId", str(uuid.uuid4()))
            self.ledger.add(payment)
        return payment, (self.notify(payment, sync) if notify else [])

    def settle(self, operation_id: str, sync: bool | None = None) -> tuple[Payment, list[Delivery]]:
        """Authorization -> Transaction for a pending operation (same operationId, as the docs promise)."""
        payment = self.ledger.find("operationId", operation_id)
        if payment is None:
            raise KeyError(operation_id)
        payment = self.ledger.update(payment, status="booked")
        return payment, self.notify(payment, sync)

    def notify(self, payment: Payment, sync: bool | None = None) -> list[Delivery]:
        hook = self.webhooks.get("oper-feed-operation")
        if hook is None:
            return []
        k = self.knobs
        other_id = str(uuid.uuid4()) if k.webhook_operation_id_differs else None
        body = shapes.operation(payment, k.webhook_amounts_as_strings, other_id)
        headers = {"Content-Type": "application/json"}
        if hook.get("authType") == "Bearer" and hook.get("authSecret"):
            headers["Authorization"] = f"Bearer {hook['authSecret']}"
        elif hook.get("authType") == "Basic" and hook.get("authSecret"):
            headers["Authorization"] = "Basic " + base64.b64encode(str(hook["authSecret"]).encode()).decode()
        policy = RetryPolicy(k.webhook_max_attempts, k.webhook_retry_interval, k.webhook_timeout,
                             accept=lambda status: 200 <= status < 300)
        data = json.dumps(body, ensure_ascii=False)
        run_sync = k.webhook_sync if sync is None else sync
        return [self.sender.send(hook["url"], data.encode(), headers, "oper-feed-operation", run_sync, policy)
                for _ in range(1 + k.webhook_duplicates)]

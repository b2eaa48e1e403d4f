"""Tochka emulator state: our company and accounts, the payment ledger, statements, webhooks, tokens.

Everything a test can observe lives here behind one lock; the RSA key survives `reset` so a relay
that cached the JWK keeps verifying webhooks across test cases.
"""
from __future__ import annotations

import itertools
import secrets
import threading
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from emulators.common.clock import MSK, Clock
from emulators.common.payment_control import DocumentNumbers
from emulators.common.payments import Ledger, Party, Payment, PaymentSpec, build_payment, money, totals
from emulators.common.webhook_sender import Delivery, RetryPolicy, WebhookSender
from emulators.tochka import shapes
from emulators.tochka.signing import load_key, mint_access_token, new_key, read_access_token, sign_webhook

ALL_PERMISSIONS = ["ReadAccountsBasic", "ReadAccountsDetail", "ReadBalances", "ReadStatements",
                   "ReadTransactionsBasic", "ReadTransactionsCredits", "ReadTransactionsDebits",
                   "ReadTransactionsDetail", "ReadCustomerData", "ManageWebhookData"]
SANDBOX_TOKEN = "sandbox.jwt.token"


class Knobs(BaseModel):
    """Run-time switches, steered at `/_emulator/knobs`."""

    polls_before_ready: int = Field(1, ge=0, description="GETs answered Processing before a statement is Ready")
    fail_next_statement: bool = Field(False, description="the next statement ends in status Error")
    forbidden_by_consent: bool = Field(False, description="every API call answers 403 Forbidden by consent")
    webhook_sync: bool = Field(True, description="deliver webhooks (all retries) before the control call returns")
    webhook_max_attempts: int = Field(30, ge=1)
    webhook_retry_interval: float = Field(10.0, ge=0)
    webhook_timeout: float = Field(5.0, gt=0)
    bad_signature: bool = Field(False, description="sign webhooks with a key the JWK does not match")
    top_level_amount: bool = Field(False, description="add the top-level `amount` the docs list but the sample lacks")
    omit_transaction_id: bool = Field(False, description="statement transactions without transactionId")
    require_https: bool = Field(False, description="refuse webhook URLs that are not https on port 443")
    statement_ttl: float = Field(86400.0, gt=0)
    access_token_ttl: float = Field(86400.0, gt=0)
    refresh_token_ttl: float = Field(30 * 86400.0, gt=0)


class TochkaState:
    """One Tochka customer (company) with its accounts, as seen by one or more API clients."""

    def __init__(self, seed: dict[str, Any], clock: Clock, webhook_sync: bool = True) -> None:
        self.seed, self.clock = seed, clock
        self.lock = threading.RLock()
        self.key = load_key(seed["private_key_pem"]) if seed.get("private_key_pem") else new_key()
        self._wrong_key = None
        self.sender = WebhookSender()
        self.default_sync = webhook_sync
        self.load()

    def load(self) -> None:
        with self.lock:
            seed = self.seed
            self.knobs = Knobs(webhook_sync=self.default_sync)
            c = seed["customer"]
            self.customer_code: str = str(c["customerCode"])
            self.customer = c
            self.owners: dict[str, Party] = {}
            self.opened: dict[str, str] = {}
            self.numbers = DocumentNumbers()
            opening: dict[str, Decimal] = {}
            for a in seed["accounts"]:
                party = Party(c["name"], str(c["inn"]), str(c.get("kpp", "")), str(a["account"]), str(a["bik"]))
                self.owners[party.account] = party
                self.opened[party.account] = str(a.get("opened", "2024-01-10"))
                self.numbers.add(party.account, int(a.get("next_document_number", 1)),
                                 int(a.get("next_incoming_number", 301)))
                opening[party.account] = money(a.get("opening_balance", 0))
            self.ledger = Ledger(opening)
            self.clients: dict[str, str] = {str(x["client_id"]): str(x["client_secret"])
                                            for x in seed.get("clients", [])}
            self.static_tokens: dict[str, str] = {str(t["token"]): str(t["client_id"])
                                                  for t in seed.get("static_tokens", [])}
            self.webhooks: dict[str, dict[str, Any]] = {str(w["client_id"]): {"webhooksList": list(w["webhooksList"]),
                                                                               "url": w["url"]}
                                                         for w in seed.get("webhooks", [])}
            self.statements: dict[str, dict[str, Any]] = {}
            self._statement_ids = itertools.count(23489)
            self.codes: dict[str, dict[str, Any]] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.sender.reset()
            for spec in seed.get("payments", []) or []:
                self.add_payment(PaymentSpec.model_validate(spec), notify=False)

    # ---- auth ----------------------------------------------------------------------------
    def authenticate(self, token: str, sandbox: bool) -> dict[str, Any] | None:
        """Claims for a bearer token: a static seed token, the sandbox token, or one we minted."""
        if sandbox and token == SANDBOX_TOKEN:
            return {"sub": "sandbox", "permissions": ALL_PERMISSIONS}
        if token in self.static_tokens:
            return {"sub": self.static_tokens[token], "permissions": ALL_PERMISSIONS}
        return read_access_token(token, self.key, self.clock.now())

    def mint(self, client_id: str, permissions: list[str], ttl: float | None = None, kind: str = "jwt-key") -> str:
        return mint_access_token(self.key, client_id=client_id, customer_code=self.customer_code,
                                 permissions=permissions, ttl=ttl or self.knobs.access_token_ttl,
                                 now=self.clock.now(), kind=kind)

    def issue_code(self, client_id: str, permissions: list[str]) -> str:
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"client_id": client_id, "permissions": permissions}
        return code

    def token_pair(self, client_id: str, permissions: list[str]) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_tokens[refresh] = {"client_id": client_id, "permissions": permissions,
                                            "exp": self.clock.now() + self.knobs.refresh_token_ttl}
        return {"token_type": "bearer", "access_token": self.mint(client_id, permissions, kind="oauth"),
                "refresh_token": refresh, "expires_in": int(self.knobs.access_token_ttl)}

    # ---- accounts and payments -----------------------------------------------------------
    def owner(self, account: str | None) -> Party:
        """Our account by number or by `number/BIC` accountId; the first account when None."""
        if account is None:
            return next(iter(self.owners.values()))
        number = account.split("/")[0]
        found = self.owners.get(number)
        if found is None or ("/" in account and account.split("/", 1)[1] != found.bik):
            raise KeyError(account)
        return found

    def add_payment(self, spec: PaymentSpec, notify: bool = True, webhook_type: str | None = None,
                    sync: bool | None = None) -> tuple[Payment, list[Delivery]]:
        """"A payment happens": book it on our account and, if it succeeded, fire the webhook."""
        with self.lock:
            owner = self.owner(spec.account)
            now = datetime.fromtimestamp(self.clock.now(), MSK)
            number = spec.document_number or self.numbers.next(owner.account, spec.direction)
            payment = build_payment(spec, owner, now, number)
            payment.ids.setdefault("paymentId", str(uuid.uuid4().int)[:10])
            payment.ids.setdefault("transactionId", f"{payment.ids['paymentId']};{uuid.uuid4().hex[:8]}")
            kind = webhook_type or ("incomingPayment" if payment.direction == "incoming" else "outgoingPayment")
            if kind != "acquiringInternetPayment":
                self.ledger.add(payment)
        deliveries = self.notify(payment, kind, sync) if notify and payment.status == "booked" else []
        return payment, deliveries

    def notify(self, payment: Payment, kind: str, sync: bool | None = None) -> list[Delivery]:
        if kind in ("incomingPayment", "outgoingPayment"):
            claims = shapes.payment_claims(payment, kind, self.customer_code, self.knobs.top_level_amount)
        else:
            claims = shapes.sbp_claims(payment, kind, self.customer_code)
        return self.dispatch(kind, claims, sync)

    def dispatch(self, kind: str, claims: dict[str, Any], sync: bool | None = None,
                 only_client: str | None = None) -> list[Delivery]:
        """Sign `claims` and POST them (text/plain) to every client subscribed to `kind`."""
        key = self.key
        if self.knobs.bad_signature:
            key = self._wrong_key = self._wrong_key or new_key()
        body = sign_webhook(claims, key)
        k = self.knobs
        policy = RetryPolicy(k.webhook_max_attempts, k.webhook_retry_interval, k.webhook_timeout)
        with self.lock:
            targets = [(cid, hook["url"]) for cid, hook in self.webhooks.items()
                       if kind in hook["webhooksList"] and (only_client is None or cid == only_client)]
        run_sync = k.webhook_sync if sync is None else sync
        return [self.sender.send(url, body, {"Content-Type": "text/plain"}, kind, run_sync, policy)
                for _, url in targets]

    # ---- statements ----------------------------------------------------------------------
    def init_statement(self, account: str, start: date, end: date) -> dict[str, Any]:
        owner = self.owner(account)
        with self.lock:
            record = {"accountId": shapes.account_id(owner), "statementId": str(next(self._statement_ids)),
                      "status": "Created", "startDateTime": start.isoformat(), "endDateTime": end.isoformat(),
                      "creationDateTime": datetime.fromtimestamp(self.clock.now(), timezone.utc)
                      .isoformat(timespec="milliseconds"),
                      "_created": self.clock.now(), "_polls": 0, "_fail": self.knobs.fail_next_statement}
            self.knobs.fail_next_statement = False
            self.statements[record["statementId"]] = record
            return self.public(record)

    def poll(self, statement_id: str) -> dict[str, Any] | None:
        """Read one statement, moving Created -> Processing -> Ready (or Error) by the number of reads."""
        with self.lock:
            record = self.statements.get(statement_id)
            if record is None or self.clock.now() - record["_created"] > self.knobs.statement_ttl:
                self.statements.pop(statement_id, None)
                return None
            if record["status"] in ("Created", "Processing"):
                record["_polls"] += 1
                if record["_polls"] <= self.knobs.polls_before_ready:
                    record["status"] = "Processing"
                elif record["_fail"]:
                    record["status"] = "Error"
                else:
                    self._make_ready(record)
            return self.public(record)

    def _make_ready(self, record: dict[str, Any]) -> None:
        account = record["accountId"].split("/")[0]
        start, end = date.fromisoformat(record["startDateTime"]), date.fromisoformat(record["endDateTime"])
        payments = self.ledger.between(account, start, end)
        opening = self.ledger.balance_before(account, start)
        credit, debit = totals(payments)
        record.update(status="Ready", startDateBalance=float(opening), endDateBalance=float(opening + credit - debit),
                      Transaction=[shapes.statement_transaction(p, self.knobs.omit_transaction_id) for p in payments])

    def statement_ids(self) -> list[str]:
        with self.lock:
            return list(self.statements)

    @staticmethod
    def public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

"""Tochka: webhook claims and statement transactions as Operations, and the statement poller.

Statements are asynchronous: init (status Created) → poll (Processing) → Ready with the
transactions. The poller keeps its state in the `cursors` table: the date up to which statements
were read, and a statement still being prepared, so a slow bank never blocks the scheduler and a
restart continues where it stopped.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any, Callable
from urllib.parse import quote

from connectors.banks.http import BankApiError, BankHttp
from connectors.banks.model import MSK, Operation, digits, kopecks
from connectors.banks.operations import Operations, load_cursor
from connectors.banks.settings import TochkaSettings

log = logging.getLogger("relay.bank.tochka")
ROUTE_HOOK, ROUTE_STATEMENT = "tochka-webhook", "tochka-statement"
PAYMENT_HOOKS = {"incomingPayment": "C", "outgoingPayment": "D"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def from_webhook(claims: dict[str, Any]) -> Operation | None:
    """incomingPayment/outgoingPayment claims → Operation; None for other webhook types (SBP and
    acquiring carry no accounts or document numbers; their money shows up in the statement).

    Raises ValueError naming what is missing or wrong."""
    direction = PAYMENT_HOOKS.get(_text(claims.get("webhookType")))
    if direction is None:
        return None
    payer, recipient = claims.get("SidePayer"), claims.get("SideRecipient")
    if not isinstance(payer, dict) or not isinstance(recipient, dict):
        raise ValueError("SidePayer and SideRecipient must be objects")
    us, them = (recipient, payer) if direction == "C" else (payer, recipient)
    # The official sample has no top-level amount although the docs list one.
    amount = claims.get("amount") or us.get("amount") or them.get("amount")
    try:
        posted = date.fromisoformat(_text(claims.get("date"))[:10])
    except ValueError:
        raise ValueError(f"date {claims.get('date')!r} is not YYYY-MM-DD") from None
    return Operation(route=ROUTE_HOOK, account=digits(us.get("account")), direction=direction,
                     amount_kopecks=kopecks(amount), posted_on=posted,
                     document_number=_text(claims.get("documentNumber")), purpose=_text(claims.get("purpose")),
                     counterparty_name=_text(them.get("name")), counterparty_inn=digits(them.get("inn")),
                     counterparty_kpp=digits(them.get("kpp")), counterparty_account=digits(them.get("account")),
                     counterparty_bik=digits(them.get("bankCode")), counterparty_bank=_text(them.get("bankName")),
                     currency=_text(us.get("currency")) or "RUB", route_id=_text(claims.get("paymentId")), raw=claims)


def from_statement(account_id: str, tx: dict[str, Any]) -> Operation | None:
    """One statement `Transaction` → Operation; None for Pending ones (the Booked one comes later)."""
    if _text(tx.get("status")) not in ("", "Booked"):
        return None
    direction = {"Credit": "C", "Debit": "D"}.get(_text(tx.get("creditDebitIndicator")))
    if direction is None:
        raise ValueError(f"creditDebitIndicator {tx.get('creditDebitIndicator')!r} is not Credit or Debit")
    side = "Debtor" if direction == "C" else "Creditor"
    party, account, agent = (tx.get(f"{side}{part}") or {} for part in ("Party", "Account", "Agent"))
    money = tx.get("Amount") or {}
    return Operation(route=ROUTE_STATEMENT, account=account_id.split("/")[0], direction=direction,
                     amount_kopecks=kopecks(money.get("amount", money.get("amountNat"))),
                     posted_on=date.fromisoformat(_text(tx.get("documentProcessDate"))[:10]),
                     document_number=_text(tx.get("documentNumber")), purpose=_text(tx.get("description")),
                     counterparty_name=_text(party.get("name")), counterparty_inn=digits(party.get("inn")),
                     counterparty_kpp=digits(party.get("kpp")), counterparty_account=digits(account.get("identification")),
                     counterparty_bik=digits(agent.get("identification")), counterparty_bank=_text(agent.get("name")),
                     currency=_text(money.get("currency")) or "RUB", route_id=_text(tx.get("paymentId")), raw=tx)


def _today() -> date:
    return datetime.now(MSK).date()


class TochkaPoller:
    """Reads statements for every configured account, from the saved date on (with an overlap)."""

    def __init__(self, settings: TochkaSettings, operations: Operations, today: Callable[[], date] = _today) -> None:
        self.settings = settings
        self.operations = operations
        self.today = today
        self.http = BankHttp("Tochka", settings.base_url, settings.token.get_secret_value(), settings.timeout_seconds)

    def poll(self) -> int:
        """One run over every account; returns how many operations were new. One account failing
        (logged) does not keep the others waiting; it starts again from its cursor next run."""
        new = 0
        for account_id in self.settings.accounts:
            try:
                new += self.poll_account(account_id)
            except Exception:
                log.exception("Tochka statement poll of %s failed; next run continues from the saved cursor", account_id)
        return new

    def poll_account(self, account_id: str) -> int:
        name = f"bank.tochka.{account_id}"
        state = load_cursor(self.operations.store, name) or {}
        pending = state.get("pending")
        if pending is None:
            pending = self._request(account_id, state.get("date"))
            state = {**state, "pending": pending}
            self.operations.remember(name, state)
        path = f"/open-banking/v1.0/accounts/{quote(account_id, safe='')}/statements/{pending['statementId']}"
        for check in range(self.settings.statement_polls):
            try:
                answer = self.http.request("GET", path)
            except BankApiError as exc:
                if exc.status != 404:
                    raise
                log.warning("Tochka statement %s expired before it was read; asking again next run", pending["statementId"])
                self.operations.remember(name, {**state, "pending": None})
                return 0
            statement = (answer.get("Data") or {}).get("Statement") or [{}]
            statement = statement[0] if isinstance(statement, list) else statement
            status = statement.get("status")
            if status == "Ready":
                return self._store(account_id, name, pending, statement.get("Transaction") or [])
            if status == "Error":
                log.error("Tochka could not prepare statement %s for %s; asking again next run", pending["statementId"], account_id)
                self.operations.remember(name, {**state, "pending": None})
                return 0
            if check + 1 < self.settings.statement_polls and self.settings.statement_poll_seconds:
                time.sleep(self.settings.statement_poll_seconds)
        log.info("Tochka statement %s is still %s; checking again next run", pending["statementId"], status)
        return 0

    def _request(self, account_id: str, cursor_date: str | None) -> dict[str, Any]:
        """Ask for a statement from the cursor (minus the overlap) to today."""
        end = self.today()
        if cursor_date:
            start = date.fromisoformat(cursor_date) - timedelta(days=self.settings.overlap_days)
        else:
            start = self.settings.start_date or end
        start = min(start, end)
        body = {"Data": {"Statement": {"accountId": account_id, "startDateTime": start.isoformat(),
                                       "endDateTime": end.isoformat()}}}
        answer = self.http.request("POST", "/open-banking/v1.0/statements", json=body)
        statement = (answer.get("Data") or {}).get("Statement") or {}
        if not statement.get("statementId"):
            raise BankApiError("Tochka", 200, f"statement request answered without a statementId: {answer}")
        return {"statementId": str(statement["statementId"]), "start": start.isoformat(), "end": end.isoformat()}

    def _store(self, account_id: str, name: str, pending: dict[str, Any], transactions: list[dict[str, Any]]) -> int:
        operations = []
        for tx in transactions:
            try:
                op = from_statement(account_id, tx)
            except (ValueError, TypeError, AttributeError) as exc:
                log.error("skipped a Tochka statement transaction (%s): %s", tx.get("paymentId") or tx.get("transactionId"), exc)
                continue
            if op is not None:
                operations.append(op)
        results = self.operations.ingest(operations, cursor=(name, {"date": pending["end"], "pending": None}))
        new = sum(r.new for r in results)
        log.info("Tochka %s %s..%s: %d operation(s), %d new", account_id, pending["start"], pending["end"], len(results), new)
        return new

    def close(self) -> None:
        self.http.close()

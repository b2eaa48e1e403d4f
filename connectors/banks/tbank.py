"""T-Bank: statement operations as Operations, and the statement poller with cursor paging.

`GET /api/v1/statement` answers a page and an opaque `nextCursor`; the poller stores each page's
operations together with the cursor for the next page in one transaction, so a run that stops
half-way resumes at the page it had not stored. When `nextCursor` comes back null the window is
done and the next run starts a new one from its end (minus an overlap for late postings).
Datetimes are UTC; the posting date is taken in Moscow time, as every other route dates it.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

from connectors.banks.http import BankApiError, BankHttp
from connectors.banks.model import MSK, Operation, digits, kopecks, msk_date
from connectors.banks.operations import Operations, load_cursor
from connectors.banks.settings import TBankSettings

log = logging.getLogger("relay.bank.tbank")
ROUTE = "tbank-statement"
MAX_PAGES = 10_000  # a cursor that never ends is a bank bug; stop instead of looping forever


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def from_operation(op: dict[str, Any]) -> Operation | None:
    """One statement operation → Operation; None for a hold (`Authorization`): only postings count.

    Party key names vary between integrations (`acct`/`account`, `bicRu`/`bic`), so read tolerantly:
    `counterParty` first, then the payer (incoming) or receiver (outgoing)."""
    if _text(op.get("operationStatus")) not in ("", "Transaction"):
        return None
    direction = {"Credit": "C", "Debit": "D"}.get(_text(op.get("typeOfOperation")))
    if direction is None:
        raise ValueError(f"typeOfOperation {op.get('typeOfOperation')!r} is not Credit or Debit")
    cp = op.get("counterParty") or {}
    side = op.get("payer" if direction == "C" else "receiver") or {}
    amount = next((op[k] for k in ("accountAmount", "rubleAmount", "operationAmount") if op.get(k) not in (None, "")), None)
    moment = next((op[k] for k in ("operationDate", "chargeDate", "drawDate", "trxnPostDate") if op.get(k)), None)
    if moment is None:
        raise ValueError("operation has no operationDate")
    document_date = None
    if op.get("docDate"):
        try:
            document_date = date.fromisoformat(_text(op["docDate"])[:10])
        except ValueError:
            document_date = None
    currency = _text(op.get("accountCurrencyDigitalCode")) or "643"
    return Operation(route=ROUTE, account=digits(op.get("accountNumber")), direction=direction,
                     amount_kopecks=kopecks(amount), posted_on=msk_date(str(moment)),
                     document_number=_text(op.get("documentNumber")), purpose=_text(op.get("payPurpose")),
                     counterparty_name=_text(cp.get("name") or side.get("name") or op.get("description")),
                     counterparty_inn=digits(cp.get("inn") or side.get("inn")),
                     counterparty_kpp=digits(cp.get("kpp") or side.get("kpp")),
                     counterparty_account=digits(cp.get("account") or side.get("acct") or side.get("account")),
                     counterparty_bik=digits(cp.get("bankBic") or side.get("bicRu") or side.get("bic")),
                     counterparty_bank=_text(cp.get("bankName") or side.get("bankName")),
                     currency="RUB" if currency == "643" else currency, document_date=document_date,
                     route_id=_text(op.get("operationId")), raw=op)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TBankPoller:
    """Reads every configured account's statement page by page, resuming from the stored cursor."""

    def __init__(self, settings: TBankSettings, operations: Operations, now: Callable[[], datetime] = _utcnow) -> None:
        self.settings = settings
        self.operations = operations
        self.now = now
        self.http = BankHttp("T-Bank", settings.base_url, settings.token.get_secret_value(), settings.timeout_seconds,
                             requests_per_second=settings.requests_per_second)

    def poll(self) -> int:
        """One run over every account; returns how many operations were new. One account failing
        (logged) does not keep the others waiting; it resumes from its stored page next run."""
        new = 0
        for number in self.settings.accounts:
            try:
                new += self.poll_account(number)
            except Exception:
                log.exception("T-Bank statement poll of %s failed; next run resumes from the saved cursor", number)
        return new

    def poll_account(self, number: str) -> int:
        name = f"bank.tbank.{number}"
        state = load_cursor(self.operations.store, name) or {}
        window = state.get("window") or self._window(state.get("since"))
        new = 0
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"accountNumber": number, "from": window["from"], "to": window["to"],
                                      "operationStatus": "Transaction", "limit": self.settings.page_size}
            if window.get("cursor"):
                params["cursor"] = window["cursor"]
            page = self.http.request("GET", "/api/v1/statement", params=params)
            if not isinstance(page, dict):
                raise BankApiError("T-Bank", 200, f"statement page is not an object: {str(page)[:200]}")
            operations = self._operations(page.get("operations") or [])
            following = page.get("nextCursor") or None
            if following is not None and following == window.get("cursor"):
                raise BankApiError("T-Bank", 200, "nextCursor repeats the cursor just used; stopping this run")
            if following:
                window = {**window, "cursor": following}
                state = {"since": state.get("since"), "window": window}
            else:
                state = {"since": window["to"], "window": None}
            new += sum(r.new for r in self.operations.ingest(operations, cursor=(name, state)))
            if not following:
                log.info("T-Bank %s %s..%s: %d new operation(s)", number, window["from"], window["to"], new)
                return new
        raise BankApiError("T-Bank", 200, f"more than {MAX_PAGES} statement pages in one window")

    def _window(self, since: str | None) -> dict[str, Any]:
        """A new window: from the last window's end (minus the overlap) to now."""
        now = self.now()
        if since:
            start = datetime.fromisoformat(since.replace("Z", "+00:00")) - timedelta(days=self.settings.overlap_days)
        else:
            first = self.settings.start_date or now.astimezone(MSK).date()
            start = datetime.combine(first, time(0), tzinfo=MSK)
        return {"from": _iso(min(start, now)), "to": _iso(now), "cursor": None}

    @staticmethod
    def _operations(items: list[dict[str, Any]]) -> list[Operation]:
        out = []
        for item in items:
            try:
                op = from_operation(item)
            except (ValueError, TypeError, AttributeError) as exc:
                log.error("skipped a T-Bank operation (%s): %s", item.get("operationId"), exc)
                continue
            if op is not None:
                out.append(op)
        return out

    def close(self) -> None:
        self.http.close()

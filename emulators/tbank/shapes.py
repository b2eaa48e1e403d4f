"""T-Bank business API wire shapes: statement operations (current and deprecated), errors, cursors.

Field names follow the reference (live-confirmed by integrators); where integrators disagree on a
name (payer.acct vs payer.account, bicRu vs bic) we emit the confirmed spelling and the relay
must read tolerantly.
"""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from emulators.common.payments import Party, Payment, as_number, py_float_str


def iso_utc(moment: datetime) -> str:
    """`2025-02-03T07:15:00Z`: T-Bank sends every datetime in ISO 8601, UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"errorCode": code, "errorId": uuid.uuid4().hex[:10], "errorMessage": message,
            "errorDetails": details or {}}


def encode_cursor(state: dict[str, Any]) -> str:
    """Opaque to clients; here base64url JSON of where the previous page stopped."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc


def category(p: Payment) -> str:
    """Operation category; `incomePeople` is confirmed for individuals, the others are unverified."""
    person = len(p.counterparty.inn) == 12 or p.counterparty.account.startswith(("40817", "40820", "423"))
    if p.direction == "incoming":
        return "incomePeople" if person else "incomeLegal"
    return "paymentPeople" if person else "paymentLegal"


def _party(party: Party) -> dict[str, str]:
    return {"acct": party.account, "inn": party.inn, "kpp": party.kpp, "name": party.name,
            "bankName": party.bank_name, "bicRu": party.bik, "corAcct": party.corr_account}


def operation(p: Payment, amounts_as_strings: bool = False, operation_id: str | None = None) -> dict[str, Any]:
    """One statement operation (also the body of the `oper-feed-operation` webhook)."""
    amount: Any = py_float_str(p.amount) if amounts_as_strings else as_number(p.amount)
    booked = p.status == "booked"
    cp = p.counterparty
    op: dict[str, Any] = {
        "operationId": operation_id or p.ids.get("operationId"), "operationDate": iso_utc(p.booked_at),
        "typeOfOperation": "Credit" if p.direction == "incoming" else "Debit",
        "operationStatus": "Transaction" if booked else "Authorization", "accountNumber": p.account,
        "documentNumber": p.document_number, "docDate": p.document_date.isoformat(),
        "operationAmount": amount, "operationCurrencyDigitalCode": "643", "accountAmount": amount,
        "accountCurrencyDigitalCode": "643", "rubleAmount": amount, "category": category(p),
        "payPurpose": p.purpose, "description": cp.name, "priority": int(p.priority),
        "counterParty": {"account": cp.account, "inn": cp.inn, "kpp": cp.kpp, "name": cp.name,
                         "bankName": cp.bank_name, "bankBic": cp.bik, "corrAccount": cp.corr_account},
        "payer": _party(p.payer), "receiver": _party(p.recipient),
        "authorizationDate": iso_utc(p.booked_at),
    }
    if booked:
        op |= {"drawDate": iso_utc(p.booked_at), "chargeDate": iso_utc(p.booked_at),
               "trxnPostDate": iso_utc(p.booked_at)}
    return op


def legacy_operation(p: Payment) -> dict[str, Any]:
    """Deprecated `/api/v1/bank-statement` item: flat, old names (payerInn, paymentPurpose)."""
    payer, rcpt = p.payer, p.recipient
    day = p.date.isoformat()
    return {"id": p.document_number, "date": p.document_date.isoformat(), "amount": as_number(p.amount),
            "drawDate": day, "payerName": payer.name, "payerInn": payer.inn, "payerAccount": payer.account,
            "payerCorrAccount": payer.corr_account, "payerBic": payer.bik, "payerBank": payer.bank_name,
            "chargeDate": day, "recipient": rcpt.name, "recipientInn": rcpt.inn, "recipientAccount": rcpt.account,
            "recipientCorrAccount": rcpt.corr_account, "recipientBic": rcpt.bik, "recipientBank": rcpt.bank_name,
            "operationType": "01", "paymentPurpose": p.purpose, "creatorStatus": "", "payerKpp": payer.kpp,
            "recipientKpp": rcpt.kpp, "executionOrder": p.priority}

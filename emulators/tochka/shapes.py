"""Tochka wire shapes: the Data/Links/Meta envelope, errors, accounts, statement transactions, webhooks.

Kept apart from routing so the exact field names (Debtor*/Creditor*, string amounts in webhooks vs
numbers in statements) can be read in one place and matched against the reference.
"""
from __future__ import annotations

import uuid
from typing import Any

from emulators.common.payments import Party, Payment, as_number, py_float_str

LINKS = {"self": "https://enter.tochka.com/uapi"}
ERROR_CODES = {400: "HTTPBadRequest", 401: "HTTPUnauthorized", 403: "HTTPForbidden", 404: "HTTPNotFound",
               405: "HTTPMethodNotAllowed", 500: "HTTPInternalError"}  # 405's code is a guess
HELP_URL = "https://developers.tochka.com/"
WEBHOOK_TYPES = ("incomingPayment", "outgoingPayment", "incomingSbpPayment", "incomingSbpB2BPayment",
                 "acquiringInternetPayment")


def envelope(data: dict[str, Any], total_pages: int = 1) -> dict[str, Any]:
    return {"Data": data, "Links": dict(LINKS), "Meta": {"totalPages": total_pages}}


def error_body(status: int, message: str, detail: str | None = None) -> dict[str, Any]:
    """`{code, id, message, Errors[{errorCode, message, url}]}` as in the spec's ErrorResponse."""
    return {"code": str(status), "id": str(uuid.uuid4()), "message": message,
            "Errors": [{"errorCode": ERROR_CODES.get(status, "HTTPInternalError"), "message": detail or message,
                        "url": HELP_URL}]}


def account_id(party: Party) -> str:
    """Tochka's accountId: `<20-digit account>/<BIC>`."""
    return f"{party.account}/{party.bik}"


def account_model(owner: Party, customer_code: str, opened: str) -> dict[str, Any]:
    return {"customerCode": customer_code, "accountId": account_id(owner),
            "status": "Enabled", "statusUpdateDateTime": f"{opened}T00:00:00+00:00", "currency": "RUB",
            "accountType": "Business", "accountSubType": "CurrentAccount", "registrationDate": opened,
            "accountDetails": [{"schemeName": "RU.CBR.PAN", "identification": owner.account, "name": owner.name}]}


def customer_model(owner: Party, customer_code: str, short_name: str, ogrn: str) -> dict[str, Any]:
    return {"customerCode": customer_code, "customerType": "Business", "isResident": True, "taxCode": owner.inn,
            "fullName": owner.name, "shortName": short_name, "kpp": owner.kpp, "customerOgrn": ogrn}


def statement_transaction(p: Payment, omit_transaction_id: bool = False) -> dict[str, Any]:
    """One `TransactionModel`: Credit carries the payer as Debtor*, Debit the payee as Creditor*."""
    side = "Debtor" if p.direction == "incoming" else "Creditor"
    cp = p.counterparty
    item: dict[str, Any] = {
        "transactionId": p.ids.get("transactionId"), "paymentId": p.ids.get("paymentId"),
        "creditDebitIndicator": "Credit" if p.direction == "incoming" else "Debit",
        "status": "Booked" if p.status == "booked" else "Pending",
        "documentNumber": p.document_number, "transactionTypeCode": p.document_type,
        "documentProcessDate": p.date.isoformat(), "description": p.purpose,
        "Amount": {"amount": as_number(p.amount), "amountNat": as_number(p.amount), "currency": p.currency},
        f"{side}Party": {"inn": cp.inn, "name": cp.name, "kpp": cp.kpp},
        f"{side}Account": {"schemeName": "RU.CBR.PAN", "identification": cp.account},
        f"{side}Agent": {"schemeName": "RU.CBR.BIK", "identification": cp.bik,
                         "accountIdentification": cp.corr_account, "name": cp.bank_name},
    }
    if omit_transaction_id:
        item.pop("transactionId")
    return item


def _side(party: Party, amount: str, currency: str) -> dict[str, str]:
    return {"bankCode": party.bik, "bankName": party.bank_name, "bankCorrespondentAccount": party.corr_account,
            "account": party.account, "name": party.name, "amount": amount, "currency": currency, "inn": party.inn,
            "kpp": party.kpp}


def payment_claims(p: Payment, webhook_type: str, customer_code: str, top_level_amount: bool) -> dict[str, Any]:
    """incomingPayment/outgoingPayment claims; key order follows the official decoded sample."""
    amount = py_float_str(p.amount)
    claims: dict[str, Any] = {"SidePayer": _side(p.payer, amount, p.currency),
                              "SideRecipient": _side(p.recipient, amount, p.currency),
                              "purpose": p.purpose, "documentNumber": p.document_number,
                              "paymentId": p.ids.get("paymentId"), "date": p.date.isoformat(),
                              "webhookType": webhook_type, "customerCode": customer_code}
    if top_level_amount:
        claims["amount"] = amount
    return claims


def sbp_claims(p: Payment, webhook_type: str, customer_code: str) -> dict[str, Any]:
    """SBP and acquiring claims: flat, amount as string; extras come from the payment spec."""
    extra = p.extra
    amount = py_float_str(p.amount)
    if webhook_type == "incomingSbpB2BPayment":
        return {"qrcId": extra.get("qrcId", ""), "amount": amount, "purpose": p.purpose,
                "webhookType": webhook_type, "customerCode": customer_code}
    if webhook_type == "acquiringInternetPayment":
        claims = {"customerCode": customer_code, "amount": amount, "paymentType": extra.get("paymentType", "card"),
                  "operationId": extra.get("operationId", ""), "purpose": p.purpose,
                  "merchantId": extra.get("merchantId", ""), "consumerId": extra.get("consumerId", ""),
                  "status": extra.get("status", "APPROVED"), "paymentLinkId": extra.get("paymentLinkId", ""),
                  "webhookType": webhook_type}
        if claims["paymentType"] == "sbp":
            claims |= {"transactionId": extra.get("transactionId", ""), "qrcId": extra.get("qrcId", ""),
                       "payerName": extra.get("payerName", p.counterparty.name)}
        return claims
    return {"operationId": extra.get("operationId", ""), "qrcId": extra.get("qrcId", ""), "amount": amount,
            "payerMobileNumber": extra.get("payerMobileNumber", ""),
            "payerName": extra.get("payerName", p.counterparty.name), "brandName": extra.get("brandName", ""),
            "merchantId": extra.get("merchantId", ""), "purpose": p.purpose, "webhookType": webhook_type,
            "customerCode": customer_code, "refTransactionId": extra.get("refTransactionId", "")}


def sample_claims(webhook_type: str, customer_code: str) -> dict[str, Any]:
    """What a registration/test_send webhook carries: the documented sample, zeros and all."""
    zero = {"bankCode": "000000000", "bankName": "ООО Банк Точка", "bankCorrespondentAccount": "00000000000000000000",
            "account": "00000000000000000000", "name": "ИП Тест", "amount": "40.0", "currency": "RUB",
            "inn": "0000000000", "kpp": "0000000000"}
    if webhook_type in ("incomingPayment", "outgoingPayment"):
        return {"SidePayer": dict(zero), "SideRecipient": dict(zero), "purpose": "Тестовое назначение платежа",
                "documentNumber": "00000", "paymentId": "0000000000", "date": "2018-10-01",
                "webhookType": webhook_type, "customerCode": customer_code}
    return {"amount": "0.33", "purpose": "Тестовое назначение платежа", "webhookType": webhook_type,
            "customerCode": customer_code}

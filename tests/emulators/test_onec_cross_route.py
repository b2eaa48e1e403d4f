"""The same payment by every route: Tochka webhook, Tochka statement, T-Bank statement, 1C files.

Each route is reduced to the cross-route key recommended in docs/emulators/onec.md:
(our account, direction, counterparty account, counterparty INN, document number, amount in kopecks,
posting date in Moscow time). The test proves every route carries those facts and where they hide.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator, NamedTuple

import jwt
import pytest
import requests

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.common.webhook_sink import WebhookSink
from emulators.onec import parse
from emulators.tbank import create_app as create_tbank
from emulators.tochka import create_app as create_tochka

TOCHKA_ACCOUNT, TBANK_ACCOUNT = "40702810575689348581", "40702810437283605671"
TOCHKA_AUTH, TBANK_AUTH = {"Authorization": "Bearer tochka-demo-token"}, {"Authorization": "Bearer tbank-demo-token"}
MSK = timezone(timedelta(hours=3))
ROMASHKA = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001",
            "account": "40702810759363303048", "bik": "044525225"}
US_AT_TOCHKA = {"name": "ООО \"Северный ветер\"", "inn": "7743729438", "kpp": "774301001",
                "account": TOCHKA_ACCOUNT, "bik": "044525104"}
US_AT_TBANK = {**US_AT_TOCHKA, "account": TBANK_ACCOUNT, "bik": "044525974"}


class Key(NamedTuple):
    """The recommended cross-route identity of a payment (see docs/emulators/onec.md)."""

    account: str
    direction: str  # "C" credit/incoming, "D" debit/outgoing
    counterparty_account: str
    counterparty_inn: str
    document_number: str
    kopecks: int
    posting_date: str  # YYYY-MM-DD, Moscow


def kopecks(amount: Any) -> int:
    return int(Decimal(str(amount).replace(",", ".")) * 100)


def from_tochka_webhook(c: dict[str, Any]) -> Key:
    incoming = c["webhookType"] == "incomingPayment"
    us, them = (c["SideRecipient"], c["SidePayer"]) if incoming else (c["SidePayer"], c["SideRecipient"])
    amount = c.get("amount") or c["SideRecipient"].get("amount") or c["SidePayer"]["amount"]
    return Key(us["account"], "C" if incoming else "D", them["account"], them["inn"], c["documentNumber"],
               kopecks(amount), c["date"])


def from_tochka_statement(account_id: str, t: dict[str, Any]) -> Key:
    side = "Debtor" if t["creditDebitIndicator"] == "Credit" else "Creditor"
    return Key(account_id.split("/")[0], t["creditDebitIndicator"][0], t[f"{side}Account"]["identification"],
               t[f"{side}Party"]["inn"], t["documentNumber"], kopecks(t["Amount"]["amount"]),
               t["documentProcessDate"])


def from_tbank(op: dict[str, Any]) -> Key:
    # operationDate is UTC: a payment at 00:30 Moscow time is dated the previous day in UTC.
    posted = datetime.fromisoformat(op["operationDate"].replace("Z", "+00:00")).astimezone(MSK).date()
    cp = op["counterParty"]
    return Key(op["accountNumber"], op["typeOfOperation"][0], cp["account"], cp["inn"], op["documentNumber"],
               kopecks(op["accountAmount"]), posted.isoformat())


def from_1c(our_account: str, d: dict[str, str]) -> Key:
    incoming = d.get("ПолучательСчет") == our_account
    role = "Плательщик" if incoming else "Получатель"
    day = d["ДатаПоступило"] if incoming else d["ДатаСписано"]  # posting date, not the document's Дата
    return Key(our_account, "C" if incoming else "D", d[f"{role}Счет"], d[f"{role}ИНН"], d["Номер"],
               kopecks(d["Сумма"]), datetime.strptime(day, "%d.%m.%Y").date().isoformat())


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    clock = ManualClock(start=1_741_100_000.0)  # 2025-03-04 17:53 MSK
    sink = WebhookSink()
    with serve_in_thread(create_tochka(clock=clock)) as tochka, serve_in_thread(create_tbank(clock=clock)) as tbank, \
            serve_in_thread(sink.app) as hooks:
        yield {"tochka": tochka, "tbank": tbank, "hooks": hooks, "sink": sink}


@pytest.fixture
def env(servers: dict[str, Any]) -> dict[str, Any]:
    for name in ("tochka", "tbank"):
        requests.post(servers[name].url + "/_emulator/reset", timeout=10).raise_for_status()
    servers["sink"].reset()
    requests.post(servers["tochka"].url + "/_emulator/webhooks", timeout=10,
                  json={"url": servers["hooks"].url + "/tochka"}).raise_for_status()
    return servers


def happen(server: RunningServer, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(server.url + "/_emulator/payments", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def tochka_statement(env: dict[str, Any], day: str) -> list[dict[str, Any]]:
    url = env["tochka"].url + "/uapi/open-banking/v1.0"
    account_id = f"{TOCHKA_ACCOUNT}/044525104"
    sid = requests.post(url + "/statements", headers=TOCHKA_AUTH, timeout=10, json={"Data": {"Statement": {
        "accountId": account_id, "startDateTime": day, "endDateTime": day}}}).json()["Data"]["Statement"]["statementId"]
    for _ in range(5):
        got = requests.get(f"{url}/accounts/{account_id}/statements/{sid}", headers=TOCHKA_AUTH,
                           timeout=10).json()["Data"]["Statement"][0]
        if got["status"] == "Ready":
            return got["Transaction"]
    raise AssertionError("statement not ready")


def tbank_operations(env: dict[str, Any], day: str) -> list[dict[str, Any]]:
    return requests.get(env["tbank"].url + "/openapi/api/v1/statement", headers=TBANK_AUTH, timeout=10, params={
        "accountNumber": TBANK_ACCOUNT, "from": f"{day}T00:00:00+03:00", "to": f"{day}T23:59:59+03:00"}
    ).json()["operations"]


def onec_documents(server: RunningServer, day: str) -> list[dict[str, str]]:
    raw = requests.get(server.url + "/_emulator/export/1c", params={"from": day, "to": day}, timeout=10).content
    return parse(raw).documents


def test_same_incoming_payment_by_every_route(env: dict[str, Any]) -> None:
    spec = {"direction": "incoming", "amount": "48500.75", "counterparty": ROMASHKA,
            "purpose": "Оплата по счету № 131 от 28.02.2025 за внедрение CRM. В т.ч. НДС 20% - 8083.46 руб.",
            "documentNumber": "742", "documentDate": "2025-03-02", "date": "2025-03-03", "time": "00:30:00"}
    tochka = happen(env["tochka"], {**spec, "account": TOCHKA_ACCOUNT})
    happen(env["tbank"], {**spec, "account": TBANK_ACCOUNT})

    jwk = requests.get(env["tochka"].url + "/doc/openapi/static/keys/public", timeout=10).json()
    claims = jwt.decode(env["sink"].received[0]["body"], jwt.PyJWK(jwk).key, algorithms=["RS256"])
    (tx,) = tochka_statement(env, "2025-03-03")
    (op,) = tbank_operations(env, "2025-03-03")
    (doc_tochka,) = onec_documents(env["tochka"], "2025-03-03")
    (doc_tbank,) = onec_documents(env["tbank"], "2025-03-03")

    at_tochka = {from_tochka_webhook(claims), from_tochka_statement(f"{TOCHKA_ACCOUNT}/044525104", tx),
                 from_1c(TOCHKA_ACCOUNT, doc_tochka)}
    at_tbank = {from_tbank(op), from_1c(TBANK_ACCOUNT, doc_tbank)}
    assert at_tochka == {Key(TOCHKA_ACCOUNT, "C", ROMASHKA["account"], ROMASHKA["inn"], "742", 4850075, "2025-03-03")}
    assert at_tbank == {Key(TBANK_ACCOUNT, "C", ROMASHKA["account"], ROMASHKA["inn"], "742", 4850075, "2025-03-03")}
    # Bank-internal ids are per route: Tochka's paymentId ties its webhook to its statement only.
    assert claims["paymentId"] == tx["paymentId"] == tochka["payment"]["ids"]["paymentId"]
    # The pitfalls the key avoids: the 1C document date is the payer's, and T-Bank dates are UTC.
    assert doc_tochka["Дата"] == "02.03.2025" and doc_tochka["ДатаПоступило"] == "03.03.2025"
    assert op["operationDate"] == "2025-03-02T21:30:00Z" and op["docDate"] == "2025-03-02"
    assert tx["description"] == claims["purpose"] == op["payPurpose"] == doc_tbank["НазначениеПлатежа"]


def test_transfer_between_own_accounts_mirrors(env: dict[str, Any]) -> None:
    common = {"amount": "100000.00", "purpose": "Перевод собственных средств. НДС не облагается",
              "documentNumber": "1250", "date": "2025-03-03", "time": "15:00:00"}
    happen(env["tochka"], {**common, "direction": "outgoing", "account": TOCHKA_ACCOUNT, "counterparty": US_AT_TBANK})
    happen(env["tbank"], {**common, "direction": "incoming", "account": TBANK_ACCOUNT, "counterparty": US_AT_TOCHKA})
    (tx,) = tochka_statement(env, "2025-03-03")
    (op,) = tbank_operations(env, "2025-03-03")
    out_leg = from_tochka_statement(f"{TOCHKA_ACCOUNT}/044525104", tx)
    in_leg = from_tbank(op)
    assert out_leg == Key(TOCHKA_ACCOUNT, "D", TBANK_ACCOUNT, "7743729438", "1250", 10000000, "2025-03-03")
    assert in_leg == Key(TBANK_ACCOUNT, "C", TOCHKA_ACCOUNT, "7743729438", "1250", 10000000, "2025-03-03")
    # Two legs of one transfer: same number/amount/date, accounts swapped, both INNs ours.
    assert (out_leg.account, out_leg.counterparty_account) == (in_leg.counterparty_account, in_leg.account)
    assert from_1c(TOCHKA_ACCOUNT, onec_documents(env["tochka"], "2025-03-03")[0]) == out_leg
    assert from_1c(TBANK_ACCOUNT, onec_documents(env["tbank"], "2025-03-03")[0]) == in_leg

"""T-Bank emulator over real HTTP: statement cursor paging, shapes, limits, webhooks, deprecated statement."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import requests

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.common.webhook_sink import WebhookSink
from emulators.tbank import create_app
from tests.emulators.support import clock, control, reset, sink, sink_server  # noqa: F401

ACCOUNT = "40702810437283605671"
AUTH = {"Authorization": "Bearer tbank-demo-token"}
LITERA = {"name": "ООО \"Литера\"", "inn": "7813794786", "kpp": "781301001",
          "account": "40702810744429481733", "bik": "044030653"}


@pytest.fixture(scope="module")
def running(clock: ManualClock) -> Iterator[RunningServer]:
    with serve_in_thread(create_app(clock=clock)) as server:
        yield server


@pytest.fixture
def tbank(running: RunningServer, sink: WebhookSink, clock: ManualClock) -> RunningServer:
    reset(running)
    control(running, "knobs", webhook_retry_interval=0)
    clock.advance(5)  # a fresh second for the RPS limiter
    sink.reset()
    return running


def pay(tbank: RunningServer, **fields: Any) -> dict[str, Any]:
    body = {"amount": "7000.00", "purpose": "Оплата по счету № 130 от 10.03.2025. Без НДС", "counterparty": LITERA,
            **fields}
    r = requests.post(tbank.url + "/_emulator/payments", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def statement(tbank: RunningServer, **params: Any) -> requests.Response:
    return requests.get(tbank.url + "/openapi/api/v1/statement", headers=AUTH, timeout=10,
                        params={"accountNumber": ACCOUNT, "from": "2025-01-01T00:00:00Z", **params})


def test_operation_shape(tbank: RunningServer) -> None:
    body = statement(tbank, to="2025-02-05T00:00:00Z").json()
    assert set(body) == {"operations", "nextCursor"} and body["nextCursor"] is None
    (op,) = body["operations"]
    assert op["operationId"] == "3f2b8c1e-5d4a-4c6b-9e21-7a0d5b1c9f01"
    assert op["operationDate"] == "2025-02-04T06:05:00Z"  # 09:05 Moscow, sent as UTC
    assert op["typeOfOperation"] == "Credit" and op["operationStatus"] == "Transaction"
    assert op["accountAmount"] == 15000.0 and op["rubleAmount"] == 15000.0
    assert op["operationCurrencyDigitalCode"] == "643" and op["category"] == "incomePeople"
    assert op["payPurpose"].startswith("Оплата по счету № 124") and op["documentNumber"] == "87"
    assert op["counterParty"] == {"account": "40802810152357924695", "inn": "500359691585", "kpp": "",
                                  "name": "ИП Иванов Иван Иванович", "bankName": "АО \"АЛЬФА-БАНК\"",
                                  "bankBic": "044525593", "corrAccount": "30101810200000000593"}
    assert op["payer"]["acct"] == "40802810152357924695" and op["payer"]["bicRu"] == "044525593"
    assert op["receiver"]["acct"] == ACCOUNT and op["receiver"]["inn"] == "7743729438"


def test_auth_and_validation_errors(tbank: RunningServer) -> None:
    r = requests.get(tbank.url + "/openapi/api/v1/statement", params={"accountNumber": ACCOUNT}, timeout=10)
    assert r.status_code == 401 and set(r.json()) == {"errorCode", "errorId", "errorMessage", "errorDetails"}
    assert statement(tbank, accountNumber="4070281043728360567").status_code == 400
    assert statement(tbank, accountNumber="40702810000000000001").json()["errorCode"] == "FORBIDDEN"
    no_from = requests.get(tbank.url + "/openapi/api/v1/statement", headers=AUTH,
                           params={"accountNumber": ACCOUNT}, timeout=10)
    assert no_from.status_code == 400
    assert statement(tbank, limit=5001).status_code == 400
    assert statement(tbank, operationStatus="Posted").status_code == 400
    assert statement(tbank, cursor="garbage!").status_code == 400


def test_request_id_is_echoed(tbank: RunningServer) -> None:
    r = requests.get(tbank.url + "/openapi/api/v1/statement", timeout=10,
                     headers={**AUTH, "X-Request-Id": "4b1d7a52-1111-4a4a-9a9a-222222222222"},
                     params={"accountNumber": ACCOUNT, "from": "2025-01-01T00:00:00Z"})
    assert r.headers["X-Request-Id"] == "4b1d7a52-1111-4a4a-9a9a-222222222222"


def test_cursor_paging_and_first_page_balances(tbank: RunningServer) -> None:
    for n in range(23):
        pay(tbank, date="2025-03-10", time=f"10:{n:02d}:00", amount=f"{100 + n}.00")
    params = {"from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z", "limit": 10, "withBalances": "true"}
    first = statement(tbank, **params).json()
    assert len(first["operations"]) == 10 and first["nextCursor"]
    assert first["balances"] == {"incoming": 185000.0, "outgoing": 185000.0 + sum(100 + n for n in range(23))}
    seen = [op["operationId"] for op in first["operations"]]
    cursor, pages = first["nextCursor"], 1
    while cursor:
        page = statement(tbank, **params, cursor=cursor).json()
        assert "balances" not in page  # balances come with the first page only
        seen += [op["operationId"] for op in page["operations"]]
        cursor, pages = page["nextCursor"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 23
    amounts = [op["accountAmount"] for op in first["operations"]]
    assert amounts == sorted(amounts)  # chronological


def test_cursor_is_bound_to_the_account(tbank: RunningServer) -> None:
    for n in range(3):
        pay(tbank, date="2025-03-02", time=f"11:0{n}:00")
    cursor = statement(tbank, limit=1).json()["nextCursor"]
    other = requests.get(tbank.url + "/openapi/api/v1/statement", headers=AUTH, timeout=10,
                         params={"accountNumber": "40702810000000000001", "from": "2025-01-01", "cursor": cursor})
    assert other.status_code in (400, 403)


def test_time_window_is_utc_and_end_exclusive(tbank: RunningServer) -> None:
    pay(tbank, date="2025-03-02", time="01:30:00", documentNumber="901")  # 2025-03-01T22:30:00Z
    march_1_utc = statement(tbank, **{"from": "2025-03-01T00:00:00Z", "to": "2025-03-02T00:00:00Z"}).json()
    assert [op["documentNumber"] for op in march_1_utc["operations"]] == ["901"]
    assert march_1_utc["operations"][0]["operationDate"] == "2025-03-01T22:30:00Z"
    until = statement(tbank, **{"from": "2025-03-01T00:00:00Z", "to": "2025-03-01T22:30:00Z"}).json()
    assert until["operations"] == []
    msk = statement(tbank, **{"from": "2025-03-02T00:00:00+03:00", "to": "2025-03-03T00:00:00+03:00"}).json()
    assert [op["documentNumber"] for op in msk["operations"]] == ["901"]


def test_authorization_then_transaction(tbank: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    requests.post(tbank.url + "/_emulator/webhooks", json={"url": sink_server.url + "/hooks/tbank"}, timeout=10)
    pending = pay(tbank, status="pending", date="2025-03-02", direction="outgoing")
    op_id = pending["operation"]["operationId"]
    assert pending["operation"]["operationStatus"] == "Authorization" and "chargeDate" not in pending["operation"]
    holds = statement(tbank, operationStatus="Authorization").json()["operations"]
    assert [op["operationId"] for op in holds] == [op_id]
    posted_before = statement(tbank, operationStatus="Transaction").json()["operations"]
    assert op_id not in [op["operationId"] for op in posted_before]
    requests.post(f"{tbank.url}/_emulator/payments/{op_id}/settle", timeout=10).raise_for_status()
    posted = statement(tbank, operationStatus="Transaction").json()["operations"]
    assert op_id in [op["operationId"] for op in posted]  # the id survives Authorization -> Transaction
    assert [json.loads(b)["operationStatus"] for b in sink.bodies()] == ["Authorization", "Transaction"]


def test_rate_limit_20_rps(tbank: RunningServer, clock: ManualClock) -> None:
    codes = [statement(tbank).status_code for _ in range(21)]
    assert codes == [200] * 20 + [429]
    r = statement(tbank)
    assert r.json()["errorCode"] == "TOO_MANY_REQUESTS"
    clock.advance(1.0)
    assert statement(tbank).status_code == 200


def test_deprecated_bank_statement(tbank: RunningServer) -> None:
    r = requests.get(tbank.url + "/openapi/api/v1/bank-statement", headers=AUTH, timeout=10,
                     params={"accountNumber": ACCOUNT, "from": "2025-02-01", "till": "2025-02-28"})
    body = r.json()
    assert (body["saldoIn"], body["income"], body["outcome"], body["saldoOut"]) == (120000.0, 65000.0, 0.0, 185000.0)
    op = body["operation"][0]
    assert op["payerInn"] == "500359691585" and op["paymentPurpose"].startswith("Оплата по счету № 124")
    assert op["id"] == "87" and op["recipientAccount"] == ACCOUNT and op["operationType"] == "01"


def test_bank_accounts(tbank: RunningServer) -> None:
    (account,) = requests.get(tbank.url + "/openapi/api/v4/bank-accounts", headers=AUTH, timeout=10).json()
    assert account["accountNumber"] == ACCOUNT and account["bankBik"] == "044525974"
    assert account["balance"]["otb"] == 185000.0


def test_oper_feed_webhook_with_bearer_and_retries(tbank: RunningServer, sink: WebhookSink,
                                                   sink_server: RunningServer) -> None:
    r = requests.post(tbank.url + "/openapi/api/v1/webhook", headers=AUTH, timeout=10,
                      params={"eventType": "oper-feed-operation"},
                      json={"url": sink_server.url + "/hooks/tbank", "authType": "Bearer", "authSecret": "s3cr3t",
                            "hasSignature": False})
    assert r.status_code == 200
    sink.script(500, 500, 500, 500, 500, 500)  # more failures than T-Bank will try
    result = pay(tbank)
    (entry,) = requests.get(tbank.url + "/_emulator/webhooks/deliveries", timeout=10).json()
    assert len(entry["attempts"]) == 5 and not entry["delivered"]  # max 5 attempts
    sink.reset()
    pay(tbank)
    (hit,) = sink.received
    assert hit["headers"]["Authorization"] == "Bearer s3cr3t"
    assert hit["headers"]["Content-Type"] == "application/json"
    body = json.loads(hit["body"])
    assert body["typeOfOperation"] == "Credit" and body["accountNumber"] == ACCOUNT
    assert result["operation"]["operationId"] != body["operationId"]  # a different payment, of course


def test_webhook_quirk_knobs(tbank: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    requests.post(tbank.url + "/_emulator/webhooks", json={"url": sink_server.url + "/hooks/tbank"}, timeout=10)
    requests.post(tbank.url + "/_emulator/knobs", timeout=10, json={
        "webhook_operation_id_differs": True, "webhook_duplicates": 1, "webhook_amounts_as_strings": True})
    result = pay(tbank, amount="7000.50")
    first, second = (json.loads(b) for b in sink.bodies())
    assert first["operationId"] != result["operation"]["operationId"]  # the reference's warning, reproduced
    assert second["documentNumber"] == first["documentNumber"]  # a duplicate delivery
    assert first["accountAmount"] == "7000.5"

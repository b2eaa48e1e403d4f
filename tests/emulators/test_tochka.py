"""Tochka emulator over real HTTP: auth, accounts, async statements, signed webhooks, OAuth."""
from __future__ import annotations

import base64
import json
import time
from typing import Any, Iterator

import jwt
import pytest
import requests

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.common.webhook_sink import WebhookSink
from emulators.tochka import create_app
from tests.emulators.support import clock, control, reset, sink, sink_server  # noqa: F401

ACCOUNT = "40702810575689348581"
ACCOUNT_ID = f"{ACCOUNT}/044525104"
ACCOUNT_ID_URL = f"{ACCOUNT}%2F044525104"
CLIENT = "relay-demo-client"
AUTH = {"Authorization": "Bearer tochka-demo-token"}
ROMASHKA = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001",
            "account": "40702810759363303048", "bik": "044525225"}


@pytest.fixture(scope="module")
def running(clock: ManualClock) -> Iterator[RunningServer]:
    with serve_in_thread(create_app(clock=clock, webhook_sync=True)) as server:
        yield server


@pytest.fixture
def tochka(running: RunningServer, sink: WebhookSink) -> RunningServer:
    """The module's server, reset, with retries compressed to no wait."""
    reset(running)
    control(running, "knobs", webhook_retry_interval=0)
    sink.reset()
    return running


def hook_url(sink_server: RunningServer) -> str:
    return sink_server.url + "/hooks/tochka"


def register(tochka: RunningServer, sink_server: RunningServer, events: list[str] | None = None) -> None:
    body = {"url": hook_url(sink_server), "webhooksList": events or ["incomingPayment", "outgoingPayment"]}
    requests.post(tochka.url + "/_emulator/webhooks", json=body, timeout=10).raise_for_status()


def pay(tochka: RunningServer, **fields: Any) -> dict[str, Any]:
    body = {"amount": "12000.00", "purpose": "Оплата по счету № 123 от 01.02.2025. В т.ч. НДС 20% - 2000.00 руб.",
            "counterparty": ROMASHKA, **fields}
    r = requests.post(tochka.url + "/_emulator/payments", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def jwk_key(tochka: RunningServer) -> Any:
    return jwt.PyJWK(requests.get(tochka.url + "/doc/openapi/static/keys/public", timeout=10).json()).key


def statement(tochka: RunningServer, start: str, end: str, headers: dict[str, str] = AUTH) -> dict[str, Any]:
    """Init, then poll until Ready (the emulator needs no waiting: readiness counts polls)."""
    init = requests.post(tochka.url + "/uapi/open-banking/v1.0/statements", headers=headers, timeout=10, json={
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": start, "endDateTime": end}}})
    sid = init.json()["Data"]["Statement"]["statementId"]
    for _ in range(10):
        got = requests.get(f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}/statements/{sid}",
                           headers=headers, timeout=10).json()["Data"]["Statement"][0]
        if got["status"] == "Ready":
            return got
    raise AssertionError("statement never became Ready")


def test_jwk_is_a_single_bare_key(tochka: RunningServer) -> None:
    jwk = requests.get(tochka.url + "/doc/openapi/static/keys/public", timeout=10).json()
    assert set(jwk) == {"kty", "e", "n"} and jwk["kty"] == "RSA" and jwk["e"] == "AQAB"


def test_accounts_and_customers(tochka: RunningServer) -> None:
    body = requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=AUTH, timeout=10).json()
    assert body["Links"] == {"self": "https://enter.tochka.com/uapi"} and body["Meta"] == {"totalPages": 1}
    account = body["Data"]["Account"][0]
    assert account["accountId"] == ACCOUNT_ID and account["customerCode"] == "300123123"
    assert account["status"] == "Enabled" and account["accountType"] == "Business"
    one = requests.get(f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}", headers=AUTH, timeout=10)
    assert one.json()["Data"]["accountId"] == ACCOUNT_ID
    customers = requests.get(tochka.url + "/uapi/open-banking/v1.0/customers", headers=AUTH, timeout=10).json()
    assert customers["Data"]["Customer"][0] | {"customerType": "Business", "taxCode": "7743729438"} == \
        customers["Data"]["Customer"][0]


def test_unauthorized_error_shape(tochka: RunningServer) -> None:
    r = requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts",
                     headers={"Authorization": "Bearer nope"}, timeout=10)
    body = r.json()
    assert r.status_code == 401 and body["code"] == "401" and body["id"]
    assert body["Errors"][0]["errorCode"] == "HTTPUnauthorized"
    assert body["Errors"][0]["url"] == "https://developers.tochka.com/"


def test_forbidden_by_consent(tochka: RunningServer) -> None:
    requests.post(tochka.url + "/_emulator/knobs", json={"forbidden_by_consent": True}, timeout=10)
    r = requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=AUTH, timeout=10)
    assert r.status_code == 403
    assert r.json()["message"] == "Forbidden by consent" and r.json()["Errors"][0]["errorCode"] == "HTTPForbidden"


def test_minted_jwt_key_permissions_and_expiry(tochka: RunningServer, clock: ManualClock) -> None:
    token = requests.post(tochka.url + "/_emulator/tokens", timeout=10,
                          json={"permissions": ["ReadAccountsBasic"], "ttl": 60}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=headers, timeout=10).status_code == 200
    denied = requests.post(tochka.url + "/uapi/open-banking/v1.0/statements", headers=headers, timeout=10, json={})
    assert denied.status_code == 403
    clock.advance(61)
    assert requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=headers, timeout=10).status_code == 401


def test_statement_init_poll_ready(tochka: RunningServer) -> None:
    init = requests.post(tochka.url + "/uapi/open-banking/v1.0/statements", headers=AUTH, timeout=10, json={
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": "2025-02-01", "endDateTime": "2025-02-28"}}})
    created = init.json()["Data"]["Statement"]
    assert isinstance(created, dict) and created["status"] == "Created" and created["accountId"] == ACCOUNT_ID
    assert created["startDateTime"] == "2025-02-01" and "creationDateTime" in created
    url = f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}/statements/{created['statementId']}"
    first = requests.get(url, headers=AUTH, timeout=10).json()["Data"]["Statement"]
    assert isinstance(first, list) and first[0]["status"] == "Processing" and "Transaction" not in first[0]
    ready = requests.get(url.replace("%2F", "/"), headers=AUTH, timeout=10).json()["Data"]["Statement"][0]
    assert ready["status"] == "Ready"
    assert (ready["startDateBalance"], ready["endDateBalance"]) == (250000.0, 275000.0)
    credit, debit = ready["Transaction"]
    assert credit["creditDebitIndicator"] == "Credit" and credit["status"] == "Booked"
    assert credit["Amount"] == {"amount": 60000.0, "amountNat": 60000.0, "currency": "RUB"}
    assert credit["DebtorParty"] == {"inn": "7701256557", "name": "ООО \"Ромашка\"", "kpp": "770101001"}
    assert credit["DebtorAccount"] == {"schemeName": "RU.CBR.PAN", "identification": "40702810759363303048"}
    assert credit["DebtorAgent"]["schemeName"] == "RU.CBR.BIK"
    assert credit["DebtorAgent"]["identification"] == "044525225"
    assert credit["documentProcessDate"] == "2025-02-03" and credit["transactionTypeCode"] == "Платежное поручение"
    assert credit["description"].startswith("Оплата по счету № 123")
    assert debit["creditDebitIndicator"] == "Debit" and debit["CreditorParty"]["inn"] == "7813794786"
    assert "DebtorParty" not in debit


def test_statement_polls_knob_and_list(tochka: RunningServer) -> None:
    requests.post(tochka.url + "/_emulator/knobs", json={"polls_before_ready": 3}, timeout=10)
    init = requests.post(tochka.url + "/uapi/open-banking/v1.0/statements", headers=AUTH, timeout=10, json={
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": "2025-02-01", "endDateTime": "2025-02-02"}}})
    sid = init.json()["Data"]["Statement"]["statementId"]
    url = f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}/statements/{sid}"
    statuses = [requests.get(url, headers=AUTH, timeout=10).json()["Data"]["Statement"][0]["status"] for _ in range(4)]
    assert statuses == ["Processing", "Processing", "Processing", "Ready"]
    listed = requests.get(tochka.url + "/uapi/open-banking/v1.0/statements", params={"limit": 5},
                          headers=AUTH, timeout=10).json()["Data"]["Statement"]
    assert [s["statementId"] for s in listed] == [sid] and listed[0]["Transaction"] == []


def test_statement_errors_and_expiry(tochka: RunningServer, clock: ManualClock) -> None:
    base = tochka.url + "/uapi/open-banking/v1.0/statements"
    bad_date = requests.post(base, headers=AUTH, timeout=10, json={
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": "01.02.2025", "endDateTime": "2025-02-02"}}})
    assert bad_date.status_code == 400 and bad_date.json()["Errors"][0]["errorCode"] == "HTTPBadRequest"
    unknown = requests.post(base, headers=AUTH, timeout=10, json={
        "Data": {"Statement": {"accountId": "40702810000000000001/044525104", "startDateTime": "2025-02-01",
                               "endDateTime": "2025-02-02"}}})
    assert unknown.status_code == 404
    missing = requests.get(f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}/statements/1",
                           headers=AUTH, timeout=10)
    assert missing.status_code == 404 and missing.json()["Errors"][0]["errorCode"] == "HTTPNotFound"
    requests.post(tochka.url + "/_emulator/knobs", json={"fail_next_statement": True}, timeout=10)
    init = requests.post(base, headers=AUTH, timeout=10, json={
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": "2025-02-01", "endDateTime": "2025-02-02"}}})
    url = f"{tochka.url}/uapi/open-banking/v1.0/accounts/{ACCOUNT_ID_URL}/statements/" \
          f"{init.json()['Data']['Statement']['statementId']}"
    statuses = [requests.get(url, headers=AUTH, timeout=10).json()["Data"]["Statement"][0]["status"] for _ in range(3)]
    assert statuses == ["Processing", "Error", "Error"]
    clock.advance(24 * 3600 + 1)  # statements live 24 h
    assert requests.get(url, headers=AUTH, timeout=10).status_code == 404


def test_payment_webhook_verifies_against_jwk(tochka: RunningServer, sink: WebhookSink,
                                              sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    result = pay(tochka, amount="12000.50", documentNumber="742", date="2025-03-03", time="10:15:00")
    assert result["deliveries"] == [1]
    (hit,) = sink.received
    assert hit["headers"]["Content-Type"] == "text/plain" and hit["path"] == "/hooks/tochka"
    token = hit["body"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"typ": "JWT", "alg": "RS256"}  # no kid
    claims = jwt.decode(token, jwk_key(tochka), algorithms=["RS256"])
    assert claims["webhookType"] == "incomingPayment" and claims["customerCode"] == "300123123"
    assert claims["SidePayer"]["inn"] == "7701256557" and claims["SidePayer"]["amount"] == "12000.5"
    assert claims["SideRecipient"]["account"] == ACCOUNT and claims["SideRecipient"]["bankCode"] == "044525104"
    assert claims["documentNumber"] == "742" and claims["date"] == "2025-03-03"
    assert claims["paymentId"] == result["payment"]["ids"]["paymentId"] and "amount" not in claims
    raw_claims = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    assert '", "' in raw_claims and '\\u041e' in raw_claims  # Python json.dumps defaults, as Tochka sends


def test_tampered_or_foreign_signed_webhook_fails(tochka: RunningServer, sink: WebhookSink,
                                                  sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    pay(tochka)
    token = sink.received[0]["body"]
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["SidePayer"]["amount"] = "1200000.0"
    forged = head + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + sig
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, jwk_key(tochka), algorithms=["RS256"])
    requests.post(tochka.url + "/_emulator/knobs", json={"bad_signature": True}, timeout=10)
    pay(tochka)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(sink.received[1]["body"], jwk_key(tochka), algorithms=["RS256"])


def test_webhook_and_statement_share_payment_id(tochka: RunningServer, sink: WebhookSink,
                                                sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    result = pay(tochka, date="2025-03-03")
    claims = jwt.decode(sink.received[0]["body"], jwk_key(tochka), algorithms=["RS256"])
    (tx,) = statement(tochka, "2025-03-03", "2025-03-03")["Transaction"]
    assert tx["paymentId"] == claims["paymentId"] == result["payment"]["ids"]["paymentId"]
    assert tx["documentNumber"] == claims["documentNumber"]


def test_outgoing_payment_webhook(tochka: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    register(tochka, sink_server, ["outgoingPayment"])
    result = pay(tochka, direction="outgoing", purpose="Оплата по договору № 7-А за март 2025. Без НДС")
    claims = jwt.decode(sink.received[0]["body"], jwk_key(tochka), algorithms=["RS256"])
    assert claims["webhookType"] == "outgoingPayment"
    assert claims["SidePayer"]["account"] == ACCOUNT and claims["SideRecipient"]["inn"] == "7701256557"
    assert result["payment"]["documentNumber"] == "1201"  # our own numbering, from the seed


def test_only_subscribed_events_are_sent(tochka: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    register(tochka, sink_server, ["outgoingPayment"])
    assert pay(tochka)["deliveries"] == []
    pay(tochka, status="pending", direction="outgoing")  # only successful operations notify
    assert sink.received == []


def test_retries_until_200(tochka: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    sink.script(500, 202)  # Tochka wants exactly 200; 202 is a failure too
    pay(tochka)
    log = requests.get(tochka.url + "/_emulator/webhooks/deliveries", timeout=10).json()
    assert [a["status"] for a in log[0]["attempts"]] == [500, 202, 200] and log[0]["delivered"]
    assert len({r["body"] for r in sink.received}) == 1  # the same token re-sent


def test_retries_give_up_after_max_attempts(tochka: RunningServer, sink: WebhookSink,
                                            sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    requests.post(tochka.url + "/_emulator/knobs", json={"webhook_max_attempts": 4}, timeout=10)
    sink.script(500, 500, 500, 500, 500)
    pay(tochka)
    (entry,) = requests.get(tochka.url + "/_emulator/webhooks/deliveries", timeout=10).json()
    assert len(entry["attempts"]) == 4 and not entry["delivered"] and entry["finished"]


def test_sbp_webhook_claims(tochka: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    register(tochka, sink_server, ["incomingSbpPayment"])
    pay(tochka, webhookType="incomingSbpPayment", amount="0.33", purpose="Оплата по счету № 1 от 01.01.2021. Без НДС",
        extra={"qrcId": "AS10006DPRTEFPFS9HJ9SQSDSVRHJD3L", "payerName": "Иван Иванович И.",
               "operationId": "A22001100263820100000533E625FCB3", "payerMobileNumber": "+79991234567"})
    claims = jwt.decode(sink.received[0]["body"], jwk_key(tochka), algorithms=["RS256"])
    assert claims["webhookType"] == "incomingSbpPayment" and claims["amount"] == "0.33"
    assert claims["qrcId"] == "AS10006DPRTEFPFS9HJ9SQSDSVRHJD3L" and claims["payerName"] == "Иван Иванович И."


def test_webhook_api_registration_test_hooks(tochka: RunningServer, sink: WebhookSink,
                                             sink_server: RunningServer) -> None:
    url = f"{tochka.url}/uapi/webhook/v1.0/{CLIENT}"
    body = {"webhooksList": ["incomingPayment", "outgoingPayment"], "url": hook_url(sink_server)}
    created = requests.put(url, headers=AUTH, json=body, timeout=10)
    assert created.status_code == 200 and created.json()["Data"] == body
    kinds = [jwt.decode(r["body"], jwk_key(tochka), algorithms=["RS256"])["webhookType"] for r in sink.received]
    assert kinds == ["incomingPayment", "outgoingPayment"]  # one test webhook per event
    assert requests.get(url, headers=AUTH, timeout=10).json()["Data"] == body
    sent = requests.post(url + "/test_send", headers=AUTH, json={"webhookType": "incomingPayment"}, timeout=10)
    assert sent.json()["Data"] == {"result": True} and len(sink.received) == 3
    assert requests.delete(url, headers=AUTH, timeout=10).json()["Data"] == {"result": True}
    assert requests.get(url, headers=AUTH, timeout=10).status_code == 404


def test_webhook_registration_fails_unless_target_answers_200(tochka: RunningServer, sink: WebhookSink,
                                                              sink_server: RunningServer) -> None:
    url = f"{tochka.url}/uapi/webhook/v1.0/{CLIENT}"
    sink.script(500)
    r = requests.put(url, headers=AUTH, json={"webhooksList": ["incomingPayment"], "url": hook_url(sink_server)},
                     timeout=10)
    assert r.status_code == 400 and r.json()["Errors"][0]["errorCode"] == "HTTPBadRequest"
    assert requests.get(url, headers=AUTH, timeout=10).status_code == 404
    bad = requests.put(url, headers=AUTH, json={"webhooksList": ["somethingElse"], "url": "x"}, timeout=10)
    assert bad.status_code == 400


def test_oauth_hybrid_flow(tochka: RunningServer) -> None:
    token_url = tochka.url + "/connect/token"
    creds = {"client_id": CLIENT, "client_secret": "relay-demo-secret"}
    assert requests.post(token_url, data={**creds, "client_secret": "x", "grant_type": "client_credentials"},
                         timeout=10).json()["error"] == "invalid_client"
    cc = requests.post(token_url, data={**creds, "grant_type": "client_credentials"}, timeout=10).json()
    assert cc["token_type"] == "bearer" and cc["expires_in"] == 86400
    consent_only = {"Authorization": f"Bearer {cc['access_token']}"}
    assert requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=consent_only,
                        timeout=10).status_code == 403
    code = requests.post(tochka.url + "/_emulator/oauth/code", json={"client_id": CLIENT}, timeout=10).json()["code"]
    pair = requests.post(token_url, data={**creds, "grant_type": "authorization_code", "code": code}, timeout=10).json()
    assert {"access_token", "refresh_token", "expires_in"} <= set(pair)
    ok = requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts",
                      headers={"Authorization": f"Bearer {pair['access_token']}"}, timeout=10)
    assert ok.status_code == 200
    assert requests.post(token_url, data={**creds, "grant_type": "authorization_code", "code": code},
                         timeout=10).json()["error"] == "invalid_grant"  # codes are single-use
    renewed = requests.post(token_url, data={**creds, "grant_type": "refresh_token",
                                             "refresh_token": pair["refresh_token"]}, timeout=10).json()
    assert renewed["refresh_token"] != pair["refresh_token"]
    assert requests.post(token_url, data={**creds, "grant_type": "refresh_token",
                                          "refresh_token": pair["refresh_token"]}, timeout=10).status_code == 400


def test_sandbox_token_only_on_sandbox_prefix(tochka: RunningServer) -> None:
    headers = {"Authorization": "Bearer sandbox.jwt.token"}
    assert requests.get(tochka.url + "/sandbox/v2/open-banking/v1.0/accounts", headers=headers,
                        timeout=10).status_code == 200
    assert requests.get(tochka.url + "/uapi/open-banking/v1.0/accounts", headers=headers, timeout=10).status_code == 401


def test_background_delivery(tochka: RunningServer, sink: WebhookSink, sink_server: RunningServer) -> None:
    register(tochka, sink_server)
    pay(tochka, sync=False)
    deadline = time.monotonic() + 10  # wait for the background thread; not a timing assertion
    while not sink.received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sink.received) == 1


def test_payment_control_validation(tochka: RunningServer) -> None:
    bad_inn = {**ROMASHKA, "inn": "7701256558"}
    r = requests.post(tochka.url + "/_emulator/payments", timeout=10,
                      json={"amount": "10", "purpose": "x", "counterparty": bad_inn})
    assert r.status_code == 400 and "INN" in r.json()["error"]
    r = requests.post(tochka.url + "/_emulator/payments", timeout=10,
                      json={"amount": "-10", "purpose": "x", "counterparty": ROMASHKA})
    assert r.status_code == 400
    r = requests.post(tochka.url + "/_emulator/payments", timeout=10,
                      json={"amount": "10", "purpose": "x" * 211, "counterparty": ROMASHKA})
    assert r.status_code == 400

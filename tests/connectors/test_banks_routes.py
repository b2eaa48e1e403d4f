"""Bank routes end to end over real HTTP against the Tochka and T-Bank emulators.

One payment made in the Tochka emulator arrives three ways (signed webhook, statement poll, a 1C
file the emulator exports) and must be one row with three routes and one inbox event. Refused
webhooks store nothing. T-Bank statements are read page by page across polls, each operation once.
"""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select

from connectors.banks.model import MSK
from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.tbank import create_app as create_tbank
from emulators.tochka import create_app as create_tochka
from relay.runtime import Runtime
from relay.store.schema import BankOperation, Cursor, InboxEvent
from relay.web import create_app
from tests.support.relay import base_config, make_runtime

TOCHKA_ACCOUNT, TBANK_ACCOUNT = "40702810575689348581", "40702810437283605671"
ACCOUNT_ID = f"{TOCHKA_ACCOUNT}/044525104"
UPLOAD_TOKEN = "upload-secret-4711"
ROMASHKA = {"name": "ООО \"Ромашка\"", "inn": "7701256557", "kpp": "770101001",
            "account": "40702810759363303048", "bik": "044525225"}
IVANOV = {"name": "ИП Иванов Иван Иванович", "inn": "500359691585", "kpp": "",
          "account": "40802810152357924695", "bik": "044525593"}


@pytest.fixture(scope="module")
def banks() -> Iterator[dict[str, RunningServer]]:
    clock = ManualClock(start=1_741_000_000.0)  # 2025-03-03 14:06 MSK
    with serve_in_thread(create_tochka(clock=clock)) as tochka, serve_in_thread(create_tbank(clock=clock)) as tbank:
        yield {"tochka": tochka, "tbank": tbank}


@pytest.fixture
def relay(banks: dict[str, RunningServer], db_url: str, write_config: Callable[..., Path],
          tmp_path: Path) -> Iterator[tuple[Runtime, RunningServer]]:
    for server in banks.values():
        requests.post(server.url + "/_emulator/reset", timeout=10).raise_for_status()
    requests.post(banks["tochka"].url + "/_emulator/knobs", json={"webhook_retry_interval": 0, "webhook_max_attempts": 2},
                  timeout=10).raise_for_status()
    jwk = requests.get(banks["tochka"].url + "/doc/openapi/static/keys/public", timeout=10).json()
    (tmp_path / "tochka.jwk").write_text(json.dumps(jwk), encoding="utf-8")
    config = "mode: sandbox\n" + base_config(db_url, f"""\
        connectors:
          bank:
            tochka:
              base_url: {banks["tochka"].url}/uapi
              token: tochka-demo-token
              accounts: ["{ACCOUNT_ID}"]
              webhook_jwk: {tmp_path / "tochka.jwk"}
              start_date: "2025-03-03"
              statement_poll_seconds: 0
            tbank:
              base_url: {banks["tbank"].url}/openapi
              token: tbank-demo-token
              accounts: ["{TBANK_ACCOUNT}"]
              start_date: "2025-03-03"
              page_size: 2
              requests_per_second: 20
            onec:
              token: {UPLOAD_TOKEN}
        """)
    runtime = make_runtime(write_config(config))
    server = serve_in_thread(create_app(runtime))
    yield runtime, server
    server.stop()
    runtime.close()


def happen(server: RunningServer, **body: Any) -> dict[str, Any]:
    response = requests.post(server.url + "/_emulator/payments", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def rows(runtime: Runtime) -> list[BankOperation]:
    with runtime.store.session() as s:
        return list(s.scalars(select(BankOperation).order_by(BankOperation.id)))


def events(runtime: Runtime) -> list[InboxEvent]:
    with runtime.store.session() as s:
        return list(s.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def test_same_payment_by_webhook_statement_and_1c_file_is_one_operation(
        banks: dict[str, RunningServer], relay: tuple[Runtime, RunningServer]) -> None:
    runtime, web = relay
    tochka = banks["tochka"]
    # Registering the webhook sends Tochka's zero-filled test webhooks: they must get exactly 200.
    registered = requests.put(f"{tochka.url}/uapi/webhook/v1.0/relay-demo-client", timeout=10,
                              headers={"Authorization": "Bearer tochka-demo-token"},
                              json={"webhooksList": ["incomingPayment", "outgoingPayment"], "url": f"{web.url}/hooks/bank/tochka"})
    assert registered.status_code == 200, registered.text
    assert rows(runtime) == [] and events(runtime) == []

    made = happen(tochka, direction="incoming", amount="48500.75", counterparty=ROMASHKA, account=TOCHKA_ACCOUNT,
                  purpose="Оплата по счету № 131 от 28.02.2025 за внедрение CRM. В т.ч. НДС 20% - 8083.46 руб.",
                  documentNumber="0742", documentDate="2025-03-02", date="2025-03-03", time="10:15:00")
    delivery = requests.get(tochka.url + "/_emulator/webhooks/deliveries", timeout=10).json()[-1]
    assert delivery["attempts"][-1]["status"] == 200 and len(delivery["attempts"]) == 1
    (row,) = rows(runtime)
    assert row.routes == ["tochka-webhook"]

    connector = runtime.connector("bank")
    connector.tochka.today = lambda: date(2025, 3, 3)
    assert connector.tochka.poll() == 0  # known already: nothing new

    exported = requests.get(tochka.url + "/_emulator/export/1c", timeout=10,
                            params={"from": "2025-03-03", "to": "2025-03-03", "encoding": "cp1251"}).content
    assert b"\r\n" in exported and "Ромашка".encode("cp1251") in exported
    upload = requests.post(f"{web.url}/hooks/bank/onec", data=exported, timeout=10, headers={"X-Relay-Token": UPLOAD_TOKEN})
    assert upload.status_code == 200 and upload.json() == {"accepted": 0, "duplicates": 1}

    (row,) = rows(runtime)
    assert row.routes == ["tochka-webhook", "tochka-statement", "1c-file"]
    assert (row.account, row.direction, row.amount_kopecks, row.posted_on) == (TOCHKA_ACCOUNT, "C", 4850075, date(2025, 3, 3))
    assert (row.document_number, row.document_date, row.counterparty_inn) == ("0742", date(2025, 3, 2), ROMASHKA["inn"])
    assert row.tochka_payment_id == made["payment"]["ids"]["paymentId"]
    assert row.purpose_fields["invoice"] == "131" and row.purpose_fields["vat_amount"] == "8083.46"
    assert set(row.raw) == {"tochka-webhook", "tochka-statement", "1c-file"}
    (event,) = events(runtime)
    assert (event.source, event.kind, event.entity_key) == ("bank", "operation.incoming", f"bank:inn:{ROMASHKA['inn']}")
    assert event.payload["amount"] == "48500.75" and event.payload["key"] == row.op_key
    with runtime.store.session() as s:
        assert s.get(Cursor, f"bank.tochka.{ACCOUNT_ID}") is not None


def _tamper(token: str) -> str:
    header, claims, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data["SideRecipient"]["amount"] = data["SidePayer"]["amount"] = "999999.0"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_refused_webhooks_store_nothing(banks: dict[str, RunningServer], relay: tuple[Runtime, RunningServer]) -> None:
    runtime, web = relay
    tochka = banks["tochka"]
    requests.post(tochka.url + "/_emulator/webhooks", json={"url": f"{web.url}/hooks/bank/tochka"}, timeout=10).raise_for_status()
    happen(tochka, direction="incoming", amount="100.00", counterparty=ROMASHKA, purpose="Оплата по счету № 1",
           date="2025-03-03", time="11:00:00")
    genuine = requests.get(tochka.url + "/_emulator/webhooks/deliveries", timeout=10).json()[-1]["body"]
    with runtime.store.session() as s:  # start from nothing: only the refusals below are under test
        s.query(BankOperation).delete()
        s.query(InboxEvent).delete()
    header, claims, _ = genuine.split(".")
    for body, status in ((_tamper(genuine), 401), (f"{header}.{claims}.", 401), (f"{header}.{claims}.AAAA", 401),
                         ("not a jwt", 400), ("a.b.c", 400), ("", 400)):
        response = requests.post(f"{web.url}/hooks/bank/tochka", data=body, headers={"Content-Type": "text/plain"}, timeout=10)
        assert response.status_code == status, (body[:40], response.text)
    # A webhook signed with a key the JWK does not match (the emulator's bad_signature knob).
    requests.post(tochka.url + "/_emulator/knobs", json={"bad_signature": True}, timeout=10).raise_for_status()
    happen(tochka, direction="incoming", amount="200.00", counterparty=ROMASHKA, purpose="Оплата по счету № 2",
           date="2025-03-03", time="11:05:00")
    attempts = requests.get(tochka.url + "/_emulator/webhooks/deliveries", timeout=10).json()[-1]["attempts"]
    assert {a["status"] for a in attempts} == {401}
    assert rows(runtime) == [] and events(runtime) == []
    wrong = requests.post(f"{web.url}/hooks/bank/onec", data=b"1CClientBankExchange", headers={"X-Relay-Token": "nope"}, timeout=10)
    missing = requests.post(f"{web.url}/hooks/bank/onec", data=b"1CClientBankExchange", timeout=10)
    assert (wrong.status_code, missing.status_code) == (403, 401)
    assert requests.post(f"{web.url}/hooks/bank/sber", data=b"x", timeout=10).status_code == 404
    assert rows(runtime) == [] and events(runtime) == []


def test_malformed_upload_names_the_line(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, web = relay
    body = "\r\n".join(["1CClientBankExchange", "РасчСчет=" + TOCHKA_ACCOUNT, "СекцияДокумент=Платежное поручение",
                        "Номер=5", "Сумма=двенадцать", "ПолучательСчет=" + TOCHKA_ACCOUNT, "КонецДокумента",
                        "КонецФайла"]).encode("cp1251")
    response = requests.post(f"{web.url}/hooks/bank/onec", data=body, headers={"X-Relay-Token": UPLOAD_TOKEN}, timeout=10)
    assert response.status_code == 422
    assert response.json()["reason"].startswith("upload:5: Сумма='двенадцать' is not an amount")
    assert rows(runtime) == []
    # The same file, fixed, as a multipart form upload (`curl -F file=@kl_to_1c.txt`).
    fixed = body.replace("двенадцать".encode("cp1251"), b"12.00")
    fixed = fixed.replace("КонецДокумента".encode("cp1251"), "ДатаПоступило=03.03.2025\r\nКонецДокумента".encode("cp1251"))
    response = requests.post(f"{web.url}/hooks/bank/onec", files={"file": ("kl_to_1c.txt", fixed)},
                             headers={"X-Relay-Token": UPLOAD_TOKEN}, timeout=10)
    assert response.status_code == 200 and response.json() == {"accepted": 1, "duplicates": 0}
    (row,) = rows(runtime)
    assert (row.amount_kopecks, row.posted_on, row.routes) == (1200, date(2025, 3, 3), ["1c-file"])


def test_tbank_cursor_paging_reads_every_operation_once_across_polls(
        banks: dict[str, RunningServer], relay: tuple[Runtime, RunningServer]) -> None:
    runtime, _ = relay
    tbank = banks["tbank"]
    poller = runtime.connector("bank").tbank
    for n, at in enumerate(("10:00:00", "11:00:00", "12:00:00"), start=1):
        happen(tbank, direction="incoming", amount=f"{n}000.00", counterparty=IVANOV, purpose=f"Оплата по счету № {n}",
               documentNumber=str(n), date="2025-03-03", time=at)
    # A payment at 00:30 Moscow time is 21:30 UTC the day before: its posting date is still March 3.
    happen(tbank, direction="outgoing", amount="500.00", counterparty=ROMASHKA, purpose="Возврат по договору № 7",
           documentNumber="501", date="2025-03-03", time="00:30:00")
    poller.now = lambda: datetime(2025, 3, 3, 13, 0, tzinfo=MSK)
    before = requests.get(tbank.url + "/_emulator/requests", timeout=10).json()["total"]
    assert poller.poll() == 4
    assert requests.get(tbank.url + "/_emulator/requests", timeout=10).json()["total"] - before == 2  # two pages of 2

    happen(tbank, direction="incoming", amount="4000.00", counterparty=IVANOV, purpose="Оплата по счету № 4",
           documentNumber="4", date="2025-03-03", time="14:00:00")
    happen(tbank, direction="incoming", amount="5000.00", counterparty=IVANOV, purpose="Оплата по счету № 5",
           documentNumber="5", date="2025-03-04", time="09:00:00")
    poller.now = lambda: datetime(2025, 3, 4, 10, 0, tzinfo=MSK)
    assert poller.poll() == 2  # the overlap re-reads the first four: recognised, not stored again
    poller.now = lambda: datetime(2025, 3, 4, 11, 0, tzinfo=MSK)
    assert poller.poll() == 0

    stored = rows(runtime)
    assert len(stored) == 6 and all(r.routes == ["tbank-statement"] for r in stored)
    assert len({r.tbank_operation_id for r in stored}) == 6
    refund = next(r for r in stored if r.direction == "D")
    assert refund.posted_on == date(2025, 3, 3) and refund.purpose_fields["contract"] == "7"
    queued = events(runtime)
    assert len(queued) == 6 and len({e.idem_key for e in queued}) == 6
    assert sorted(e.kind for e in queued) == ["operation.incoming"] * 5 + ["operation.outgoing"]
    with runtime.store.session() as s:
        cursor = json.loads(s.get(Cursor, f"bank.tbank.{TBANK_ACCOUNT}").value)
        assert cursor["window"] is None and cursor["since"] == "2025-03-04T08:00:00Z"
        assert s.scalar(select(func.count()).select_from(BankOperation)) == 6

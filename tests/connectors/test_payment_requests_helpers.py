"""Fixtures for the payment-request tests: the Bitrix24, Telegram and Tochka emulators, an SMTP sink,
and a relay (store, web app) running the shipped payment-request rules and mapping.

Everything crosses real HTTP (SMTP for the sink): the portal POSTs its item events to the relay's
/hooks/bitrix24, Tochka POSTs signed payment webhooks to /hooks/bank/tochka, 1C files are uploaded
to /hooks/bank/onec, and the relay's fast-bitrix24 and python-telegram-bot call the emulators.
"""
from __future__ import annotations

import json
import shutil
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from emulators.bitrix24 import DEMO_SEED, create_app as create_portal
from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.telegram import Clock
from emulators.tochka import create_app as create_tochka
from relay.runtime import Runtime
from relay.store.schema import InboxEvent, TraceStep
from relay.web import create_app as create_relay_app
from relay.worker import Worker
from tests.emulators import test_telegram_helpers as telegram_emulator
from tests.emulators.test_telegram_helpers import TOKEN, serve_emulator
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
CODE, APP_TOKEN = "demo0webhook0key", "demo0application0token000000001"
US = "40702810575689348581"                      # our account at the Tochka emulator
UPLOAD_TOKEN = "upload-secret-4711"
TYPE = 1040
DRAFT, APPROVAL, APPROVED, PAID = "DT1040_12:NEW", "DT1040_12:UC_APPROVAL", "DT1040_12:UC_APPROVED", "DT1040_12:SUCCESS"
STAFF, KUZNETSOV_CHAT = -1001000000001, -4000000003
ITEM_EVENTS = ["ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE"]
# Contractors with real check digits (INN, BIK, accounts): the demo seed's and two more.
TRANSLOGISTIC = {"name": "ООО «ТрансЛогистик»", "inn": "7704158205", "kpp": "770401001", "bik": "044525225",
                 "account": "40702810498527720029", "corr": "30101810400000000225"}
KUZNETSOV = {"name": "ИП Кузнецов С. В.", "inn": "779890441574", "kpp": "", "bik": "044525593",
             "account": "40802810197386700573", "corr": "30101810200000000593"}
MEBEL = {"name": "ООО «Мебель»", "inn": "7772331105", "kpp": "777201001", "bik": "044030653",
         "account": "40702810341663960390", "corr": "30101810500000000653"}


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT. Each message is kept as bytes."""

    def handle(self) -> None:
        sink: "SmtpSink" = self.server.sink  # type: ignore[attr-defined]
        self.wfile.write(b"220 sink ESMTP\r\n")
        envelope: dict[str, Any] = {"to": []}
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO" or verb == b"HELO":
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                envelope = {"from": line[10:].strip().decode(), "to": []}
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"RCPT":
                envelope["to"].append(line[8:].strip().decode())
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                sink.received.append({**envelope, "data": data})
                self.wfile.write(b"250 OK queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.sink = self
        self.received: list[dict[str, Any]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@dataclass
class Systems:
    portal: RunningServer
    telegram: tuple[Flask, RunningServer]
    tochka: RunningServer
    smtp: SmtpSink


@pytest.fixture(scope="module")
def systems() -> Iterator[Systems]:
    clock = ManualClock(start=1_741_000_000.0)  # 2025-03-03 14:06 MSK: the Tochka books payments on that day
    smtp = SmtpSink()
    with serve_in_thread(create_portal(seed=DEMO_SEED, rate_limit=False)) as portal, serve_emulator(Clock()) as telegram, \
            serve_in_thread(create_tochka(clock=clock)) as tochka:
        yield Systems(portal, telegram, tochka, smtp)
    smtp.shutdown()
    smtp.server_close()


@dataclass
class Relay:
    runtime: Runtime
    server: RunningServer
    systems: Systems
    emu: telegram_emulator.Emu
    http: requests.Session = field(default_factory=requests.Session)

    # --- the portal ------------------------------------------------------------------------------
    def b24(self, method: str, **params: Any) -> Any:
        body = self.http.post(f"{self.systems.portal.url}/rest/1/{CODE}/{method}.json", json=params, timeout=10).json()
        assert "error" not in body, body
        return body["result"]

    def add(self, stage: str = DRAFT, **fields: Any) -> int:
        return int(self.b24("crm.item.add", entityTypeId=TYPE, fields={"stageId": stage, **fields})["item"]["id"])

    def move(self, item_id: int, stage: str, **fields: Any) -> None:
        self.b24("crm.item.update", entityTypeId=TYPE, id=item_id, fields={"stageId": stage, **fields})

    def item(self, item_id: int) -> dict[str, Any]:
        return self.b24("crm.item.get", entityTypeId=TYPE, id=item_id)["item"]

    def comments(self, item_id: int) -> list[str]:
        rows = self.b24("crm.timeline.comment.list", filter={"ENTITY_ID": item_id, "ENTITY_TYPE": f"dynamic_{TYPE}"})
        return [r["COMMENT"] for r in rows]

    # --- the bank --------------------------------------------------------------------------------
    def pay(self, party: dict[str, str], amount: str, purpose: str, number: str) -> dict[str, Any]:
        """An outgoing payment from our Tochka account; Tochka sends the relay its signed webhook at once
        (if the relay's webhook is registered)."""
        body = {"direction": "outgoing", "amount": amount, "purpose": purpose, "documentNumber": number,
                "date": "2025-03-03", "time": "11:00:00", "sync": True,
                "counterparty": {"name": party["name"], "inn": party["inn"], "kpp": party["kpp"],
                                 "account": party["account"], "bik": party["bik"]}}
        response = self.http.post(f"{self.systems.tochka.url}/_emulator/payments", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def upload_statement(self) -> dict[str, Any]:
        """The day's 1C statement, exported by the Tochka emulator, uploaded as an accountant's script would."""
        exported = self.http.get(f"{self.systems.tochka.url}/_emulator/export/1c", timeout=10,
                                 params={"from": "2025-03-03", "to": "2025-03-03", "encoding": "cp1251"}).content
        response = self.http.post(f"{self.server.url}/hooks/bank/onec", data=exported, timeout=10,
                                  headers={"X-Relay-Token": UPLOAD_TOKEN})
        assert response.status_code == 200, response.text
        return response.json()

    # --- the relay -------------------------------------------------------------------------------
    def work(self) -> int:
        """Deliver every portal event, process everything queued, until both are quiet."""
        total = 0
        for _ in range(20):
            self.http.post(f"{self.systems.portal.url}/_emulator/events/flush", json={}, timeout=30)
            done = Worker(self.runtime).run_once()
            total += done
            if not done:
                break
        depth = self.runtime.inbox.depth()
        assert depth.get("pending", 0) == 0 and depth.get("processing", 0) == 0 and not depth.get("dead"), depth
        return total

    def events(self, source: str, kind: str | None = None) -> list[InboxEvent]:
        with self.runtime.store.session() as s:
            query = select(InboxEvent).where(InboxEvent.source == source).order_by(InboxEvent.id)
            return [e for e in s.scalars(query) if kind is None or e.kind == kind]

    def steps(self, step: str) -> list[str]:
        with self.runtime.store.session() as s:
            return [r.message for r in s.scalars(select(TraceStep).where(TraceStep.step == step).order_by(TraceStep.id))]

    def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in self.emu.sent(chat)]


def relay_config(db_url: str, systems: Systems, tmp_path: Path, smtp: bool) -> str:
    jwk = requests.get(systems.tochka.url + "/doc/openapi/static/keys/public", timeout=10).json()
    (tmp_path / "tochka.jwk").write_text(json.dumps(jwk), encoding="utf-8")
    mail = f"""
    smtp: {{host: 127.0.0.1, port: {systems.smtp.port}, security: none, sender: "Бухгалтерия <buh@demo-company.ru>"}}""" \
        if smtp else ""
    # Sandbox mode: the emulators' demo credentials are expected here (live mode refuses them).
    return "mode: sandbox\n" + base_config(db_url) + f"""\
connectors:
  bitrix24:
    webhook_url: "{systems.portal.url}/rest/1/{CODE}/"
    application_token: {APP_TOKEN}
    batch_linger_seconds: 0.01
    requests_per_second: 50
    sweep: {{interval_seconds: 3600}}
  telegram:
    bots:
      main: {{token: "{TOKEN}", secret_token: relay-tg-secret-0123, api_url: "{systems.telegram[1].url}", staff_chat_id: {STAFF}}}
    pacing:
      per_chat: {{count: 5, seconds: 1}}
  bank:
    tochka:
      base_url: {systems.tochka.url}/uapi
      token: tochka-demo-token
      accounts: ["{US}/044525104"]
      webhook_jwk: {tmp_path / "tochka.jwk"}
      poll_interval_seconds: 0
    onec:
      token: {UPLOAD_TOKEN}
  payment_requests:
    registry: {{at: "09:00", check_seconds: 0}}{mail}
"""


@pytest.fixture
def make_relay(systems: Systems, db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[Callable[..., Relay]]:
    """Build the relay on the shipped payment-request rules and mapping (all systems reset first)."""
    made: list[Relay] = []

    def make(smtp: bool = True, tochka_webhook: bool = True) -> Relay:
        for url in (systems.portal.url, systems.tochka.url):
            requests.post(f"{url}/_emulator/reset", json={}, timeout=10).raise_for_status()
        systems.smtp.received.clear()
        for folder, name in (("rules", "payment_requests.yaml"), ("rules", "optional/payment_requests_paid.yaml"),
                             ("mappings", "payment_requests.yaml")):
            (tmp_path / folder).mkdir(exist_ok=True)
            shutil.copy(ROOT / folder / name, tmp_path / folder / Path(name).name)
        runtime = make_runtime(write_config(relay_config(db_url, systems, tmp_path, smtp)))
        server = serve_in_thread(create_relay_app(runtime))
        requests.post(f"{systems.portal.url}/_emulator/handlers", timeout=10,
                      json={"handlers": [{"event": e, "url": f"{server.url}/hooks/bitrix24"} for e in ITEM_EVENTS]})
        if tochka_webhook:
            requests.post(f"{systems.tochka.url}/_emulator/webhooks", timeout=10,
                          json={"url": f"{server.url}/hooks/bank/tochka", "webhooksList": ["outgoingPayment"]}).raise_for_status()
        relay = Relay(runtime, server, systems, emu)
        made.append(relay)
        return relay

    with telegram_emulator.emu_session(systems.telegram, telegram_emulator.Emu) as emu:
        yield make
        for relay in made:
            threading.Thread(target=relay.server.stop, daemon=True).start()
            relay.runtime.close()

"""The chaos run's world: every emulator in this process, the relay's config, its processes
started (tests/chaos/processes.py). Secrets reach the relay through the environment, as in
production, so the log check covers that path too."""
from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from emulators.bitrix24 import create_app as create_portal
from emulators.common.clock import MSK
from emulators.common.server import RunningServer, serve_in_thread
from emulators.fintablo import create_app as create_fintablo
from emulators.tbank import create_app as create_tbank
from emulators.telegram import create_app as create_telegram
from emulators.tochka import create_app as create_tochka
from tests.chaos.processes import Relay, Topology
from tests.support.process import ROOT, free_port

B24_CODE = "chaos0webhook0code77"
B24_TOKEN = "chaos0application0token00000077"
TG_TOKEN = "7000000001:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs"  # the demo seed's bot
TG_SECRET = "chaos-telegram-secret-0x5eed"
TOCHKA_TOKEN, TBANK_TOKEN, FINTABLO_TOKEN = "tochka-demo-token", "tbank-demo-token", "ft-demo-7f3c9a1e5b"
TOCHKA, TBANK = "40702810575689348581", "40702810437283605671"
STAFF = -1001000000001
BUCKET = (30, 8)  # the portal's leaky bucket: burst, requests per second (the relay is told the same)
FORCED_429 = 6  # 429s Telegram and Fintablo answer during the load, besides the portal's own bucket

RULES = """\
rules:
  - id: chat-reply
    when: {source: telegram, kind: message.new}
    do:
      - send_message: {text: "Принято: {{ message.text | e }}", reply: true}
  - id: bank-to-fintablo
    when: {source: bank, kind: "operation.*"}
    do:
      - fintablo_transaction: {}
"""


@dataclass
class Emulators:
    portal: RunningServer
    telegram: RunningServer
    tochka: RunningServer
    tbank: RunningServer
    fintablo: RunningServer

    @property
    def b24(self) -> Any:
        return self.portal.server.app.extensions["bitrix24"]  # type: ignore[attr-defined]

    def control(self, name: str, path: str, body: Any = None, method: str = "POST") -> Any:
        server: RunningServer = getattr(self, name)
        answer = requests.request(method, f"{server.url}/_emulator/{path}", json=body if method == "POST" else None, timeout=60)
        if method == "DELETE" and answer.status_code == 200 and not answer.content:
            return None
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        self.telegram.server.app.extensions["telegram"].close()  # type: ignore[attr-defined]
        for server in (self.portal, self.telegram, self.tochka, self.tbank, self.fintablo):
            server.stop()


def start_emulators() -> Emulators:
    portal = serve_in_thread(create_portal(ROOT / "emulators" / "bitrix24" / "seeds" / "demo.yaml", webhook_code=B24_CODE,
                                           application_token=B24_TOKEN, rate_limit=True, burst=BUCKET[0], rate=BUCKET[1]))
    return Emulators(portal, serve_in_thread(create_telegram(seed=ROOT / "emulators" / "telegram" / "seeds" / "demo.yaml")),
                     serve_in_thread(create_tochka(webhook_sync=True)), serve_in_thread(create_tbank()), serve_in_thread(create_fintablo()))


def secrets_env(emu: Emulators) -> dict[str, str]:
    """The relay's secrets, handed over through the environment as in production."""
    return {"CHAOS_B24_WEBHOOK": f"{emu.portal.url}/rest/1/{B24_CODE}/", "CHAOS_B24_TOKEN": B24_TOKEN, "CHAOS_TG_TOKEN": TG_TOKEN,
            "CHAOS_TG_SECRET": TG_SECRET, "CHAOS_TOCHKA_TOKEN": TOCHKA_TOKEN, "CHAOS_TBANK_TOKEN": TBANK_TOKEN,
            "CHAOS_FINTABLO_TOKEN": FINTABLO_TOKEN}


def relay_config(db_url: str, port: int, emu: Emulators, jwk: Path) -> str:
    today = datetime.now(MSK).date().isoformat()
    # Sandbox mode: the emulators' demo credentials are the sandbox's own, which live mode refuses.
    return textwrap.dedent(f"""\
        mode: sandbox
        store: {{url: "{db_url}"}}
        web: {{host: 127.0.0.1, port: {port}, threads: 16}}
        worker: {{threads: 16, poll_seconds: 0.05, lease_seconds: 3, max_attempts: 15, backoff_initial_seconds: 0.2,
                  backoff_max_seconds: 2}}
        scheduler: {{tick_seconds: 0.5}}
        logging: {{level: INFO, format: json}}
        connectors:
          bitrix24:
            webhook_url: ${{CHAOS_B24_WEBHOOK}}
            application_token: ${{CHAOS_B24_TOKEN}}
            batch_linger_seconds: 0.02
            requests_per_second: {BUCKET[1]}
            burst: {BUCKET[0]}
            timeout_seconds: 3
            sweep: {{interval_seconds: 2, overlap_seconds: 5}}
          telegram:
            bots:
              main: {{token: "${{CHAOS_TG_TOKEN}}", secret_token: "${{CHAOS_TG_SECRET}}", api_url: "{emu.telegram.url}",
                     staff_chat_id: {STAFF}, timeout_seconds: 3}}
            pacing: {{overall: {{count: 100, seconds: 1}}, per_group: {{count: 1000, seconds: 60}},
                      per_chat: {{count: 30, seconds: 1}}, max_wait_seconds: 5}}
          bank:
            tochka: {{base_url: "{emu.tochka.url}/uapi", token: "${{CHAOS_TOCHKA_TOKEN}}", accounts: ["{TOCHKA}/044525104"],
                      webhook_jwk: "{jwk}", start_date: "{today}", poll_interval_seconds: 3, statement_poll_seconds: 0.2,
                      timeout_seconds: 3}}
            tbank: {{base_url: "{emu.tbank.url}/openapi", token: "${{CHAOS_TBANK_TOKEN}}", accounts: ["{TBANK}"],
                     start_date: "{today}", poll_interval_seconds: 3, requests_per_second: 20, timeout_seconds: 3}}
          fintablo:
            base_url: "{emu.fintablo.url}"
            token: "${{CHAOS_FINTABLO_TOKEN}}"
            moneybags: {{"{TOCHKA}": 376, "{TBANK}": 377}}
            categories:
              - {{direction: outgoing, purpose: "аренд", category_id: 358}}
              - {{direction: incoming, purpose: "внедрени|поддержк", category_id: 356}}
            partner_group_id: 143
            retries: 10
            retry_wait_seconds: 0.05
            timeout_seconds: 3
        rules: ["rules/*.yaml"]
        mappings: ["mappings/*.yaml"]
        """)


def start_relay_processes(db_url: str, workdir: Path, emu: Emulators, topology: Topology = Topology()) -> Relay:
    for folder in ("rules", "mappings"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / "linked_deals.yaml", workdir / folder / "linked_deals.yaml")
    (workdir / "rules" / "chaos.yaml").write_text(RULES, encoding="utf-8")
    jwk = workdir / "tochka.jwk"
    jwk.write_text(json.dumps(requests.get(f"{emu.tochka.url}/doc/openapi/static/keys/public", timeout=10).json()), encoding="utf-8")
    port = free_port()
    config = workdir / "config.yaml"
    config.write_text(relay_config(db_url, port, emu, jwk), encoding="utf-8")
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    relay = Relay(config, port, db_url, secrets_env(emu), logs, topology)
    relay.start()
    return relay


def configured_secrets(relay: Relay) -> list[str]:
    """Every secret the run configured, and the parts that work alone (the webhook code, the bot token's key)."""
    values = [v for v in relay.env.values() if v]
    return values + [B24_CODE, TG_TOKEN.split(":")[1]]


def environment_ready(emu: Emulators, relay: Relay) -> None:
    """Wire the emulators to the relay (handlers, webhooks) and give Telegram room for the load."""
    events = ["ONCRMDEALADD", "ONCRMDEALUPDATE"]
    emu.control("portal", "handlers", {"handlers": [{"event": e, "url": f"{relay.url}/hooks/bitrix24"} for e in events]})
    emu.control("tochka", "webhooks", {"url": f"{relay.url}/hooks/bank/tochka"})
    emu.control("tochka", "knobs", {"webhook_retry_interval": 0.2, "webhook_max_attempts": 10, "polls_before_ready": 0})
    _set_webhook(emu, relay)
    emu.control("telegram", "limits", {"per_chat": {"count": 30, "seconds": 1}, "per_group": {"count": 1000, "seconds": 60},
                                        "overall": {"count": 100, "seconds": 1}})
    emu.control("telegram", "settings", {"webhook_retry_delays": [0.2, 0.5, 1, 2, 4, 8]})


def _set_webhook(emu: Emulators, relay: Relay) -> None:
    answer = requests.post(f"{emu.telegram.url}/bot{TG_TOKEN}/setWebhook", timeout=10,
                           data={"url": f"{relay.url}/hooks/telegram/main", "secret_token": TG_SECRET})
    assert answer.json().get("ok"), answer.text

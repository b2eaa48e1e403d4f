"""A relay wired to a Bitrix24 emulator for end-to-end tests: real HTTP both ways, real fast-bitrix24."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import requests
from fast_bitrix24 import Bitrix

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from relay.runtime import Runtime
from relay.web import create_app
from relay.worker import Worker
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "emulators" / "bitrix24" / "seeds" / "demo.yaml"
CODE = "demo0webhook0key"
TOKEN = "demo0application0token000000001"
EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"]


@dataclass
class LinkedDeals:
    portal: RunningServer
    relay: RunningServer
    runtime: Runtime
    worker: Worker

    @property
    def webhook(self) -> str:
        return f"{self.portal.url}/rest/1/{CODE}/"

    def bitrix(self) -> Bitrix:
        """The real client, as a person's script would use it."""
        return Bitrix(self.webhook, verbose=False)

    def deal(self, deal_id: int | str) -> dict[str, Any]:
        return requests.post(f"{self.webhook}crm.deal.get.json", json={"id": deal_id}, timeout=10).json()["result"]

    def children(self, parent_id: int | str) -> list[dict[str, Any]]:
        rows = self.bitrix().get_all("crm.deal.list", {"filter": {"UF_CRM_PARENT_DEAL": str(parent_id)}, "select": ["*", "UF_*"]})
        return sorted(rows, key=lambda d: int(d["ID"]))

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return requests.post(f"{self.portal.url}/_emulator/{path}", json=body or {}, timeout=30).json()

    def settle(self, seconds: float = 30) -> None:
        """Wait until the portal has delivered every event and the relay has processed every one."""
        deadline = time.monotonic() + seconds
        quiet = 0
        while time.monotonic() < deadline:
            self.control("events/flush")
            depth = self.runtime.inbox.depth()
            busy = depth.get("pending", 0) + depth.get("processing", 0)
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 3:
                return
            time.sleep(0.1)
        raise TimeoutError(f"not settled: {self.runtime.inbox.depth()}")

    def stop(self) -> None:
        self.worker.stop()
        self.relay.stop()
        self.portal.stop()
        self.runtime.close()


def start_linked_deals(db_url: str, write_config: Callable[..., Path], tmp_path: Path, start_worker: bool = True,
                       portal_options: dict[str, Any] | None = None, backoff_max_seconds: float = 0.2) -> LinkedDeals:
    """The shipped linked-deal rules, plus any rule file the test put in tmp_path/rules first."""
    portal = serve_in_thread(create_portal(seed=SEED, rate_limit=False, **(portal_options or {})))
    for folder in ("rules", "mappings"):
        (tmp_path / folder).mkdir(exist_ok=True)
        shutil.copy(ROOT / folder / "linked_deals.yaml", tmp_path / folder / "linked_deals.yaml")
    worker = base_config(db_url).replace("  threads: 4", "  threads: 16").replace(
        "backoff_max_seconds: 0.2", f"backoff_max_seconds: {backoff_max_seconds}")
    config = "mode: sandbox\n" + worker + f"""\
connectors:
  bitrix24:
    webhook_url: "{portal.url}/rest/1/{CODE}/"
    application_token: {TOKEN}
    batch_linger_seconds: 0.02
    requests_per_second: 50
    sweep:
      interval_seconds: 3600
      overlap_seconds: 0
"""
    runtime = make_runtime(write_config(config))
    relay = serve_in_thread(create_app(runtime))
    requests.post(f"{portal.url}/_emulator/handlers", timeout=10,
                  json={"handlers": [{"event": e, "url": f"{relay.url}/hooks/bitrix24"} for e in EVENTS]})
    worker = Worker(runtime)
    if start_worker:
        worker.start()
    return LinkedDeals(portal, relay, runtime, worker)

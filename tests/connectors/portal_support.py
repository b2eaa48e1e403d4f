"""A relay wired to the demo Bitrix24 portal with the portal-extension connectors and rules under test.

Like tests.support.bitrix24.start_linked_deals, but the test chooses the extra connectors, rule and
mapping files, and which outgoing events the portal sends (companies and items too).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import requests

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import serve_in_thread
from relay.web import create_app
from relay.worker import Worker
from tests.support.bitrix24 import CODE, ROOT, SEED, TOKEN, LinkedDeals
from tests.support.relay import base_config, make_runtime

DEAL_EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"]
COMPANY_EVENTS = ["ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE"]
ITEM_EVENTS = ["ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE"]


class Portal(LinkedDeals):
    def call(self, method: str, params: dict[str, Any]) -> Any:
        body = requests.post(f"{self.webhook}{method}.json", json=params, timeout=10).json()
        assert "error" not in body, body
        return body["result"]

    def company(self, company_id: int | str) -> dict[str, Any]:
        return self.call("crm.company.get", {"id": company_id})

    def comments(self, entity: str, entity_id: int | str) -> list[str]:
        rows = self.call("crm.timeline.comment.list", {"filter": {"ENTITY_ID": entity_id, "ENTITY_TYPE": entity}})
        return [r["COMMENT"] for r in rows]


def _forget_loop_guard() -> None:
    """The loop guard is per process; each test's portal is new, so its write history must be too."""
    from connectors.bitrix24.actions import LOOP_GUARD
    with LOOP_GUARD._lock:
        LOOP_GUARD._writes.clear()


def start_portal(db_url: str, write_config: Callable[..., Path], tmp_path: Path, *, connectors: str = "",
                 rules: tuple[str, ...] = ("linked_deals",), events: tuple[str, ...] = tuple(DEAL_EVENTS),
                 extra_files: dict[str, str] | None = None, top: str = "") -> Portal:
    """`rules` names shipped files present in both rules/ and mappings/ (or only in rules/)."""
    _forget_loop_guard()
    portal = serve_in_thread(create_portal(seed=SEED, rate_limit=False))
    for folder in ("rules", "mappings"):
        (tmp_path / folder).mkdir(exist_ok=True)
        for name in rules:
            source = ROOT / folder / f"{name}.yaml"
            if source.exists():
                shutil.copy(source, tmp_path / folder / f"{name}.yaml")
    for name, text in (extra_files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    # The demo portal's credentials are sandbox secrets, which live mode refuses.
    config = "mode: sandbox\n" + top + base_config(db_url).replace("  threads: 4", "  threads: 8") + f"""\
connectors:
  bitrix24:
    webhook_url: "{portal.url}/rest/1/{CODE}/"
    application_token: {TOKEN}
    batch_linger_seconds: 0.01
    requests_per_second: 50
    sweep:
      interval_seconds: 3600
      overlap_seconds: 0
""" + connectors
    runtime = make_runtime(write_config(config))
    relay = serve_in_thread(create_app(runtime))
    requests.post(f"{portal.url}/_emulator/handlers", timeout=10,
                  json={"handlers": [{"event": e, "url": f"{relay.url}/hooks/bitrix24"} for e in events]})
    worker = Worker(runtime)
    worker.start()
    return Portal(portal, relay, runtime, worker)

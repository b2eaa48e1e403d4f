"""A relay between an emulated Bitrix24 portal and an emulated Planfix account, running the shipped
rules/bridge + mappings/bridge (S25), wired over real HTTP in every direction: the portal's outgoing
webhooks and Planfix's scenario requests reach the relay's hooks, the relay calls both REST APIs.

`settle()` waits until both systems have delivered everything and the relay has processed it all,
including the events its own writes caused (the echoes that must change nothing).
"""
from __future__ import annotations

import copy
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from emulators.planfix import DEFAULT_TOKEN
from relay.runtime import Runtime
from relay.store.schema import InboxEvent, TraceStep
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.emulators.test_planfix_fixtures import Planfix, demo_seed
from tests.emulators.test_planfix_fixtures import start as start_planfix
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
CODE, TOKEN = "bridge0webhook0code", "bridge0application0token0000001"
PF_SECRET = "bridge-planfix-scenario-secret"
HEADERS = {"X-Relay-Secret": PF_SECRET}
DEAL_EVENTS = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"]

PORTAL_SEED: dict[str, Any] = {
    "portal": {"domain": "demo-company.bitrix24.ru", "timezone": "+03:00", "webhook_user_id": 1, "webhook_code": CODE,
               "application_token": TOKEN},
    "users": [{"ID": 1, "NAME": "Админ", "LAST_NAME": "Порталов"}, {"ID": 2, "NAME": "Мария", "LAST_NAME": "Продажина"},
              {"ID": 3, "NAME": "Пётр", "LAST_NAME": "Логистов"}, {"ID": 4, "NAME": "Анна", "LAST_NAME": "Инженерова"}],
    "pipelines": [{"id": 0, "name": "Продажи", "stages": [
        {"id": "NEW", "name": "Новая", "semantics": "process"}, {"id": "PREPARATION", "name": "Коммерческое предложение", "semantics": "process"},
        {"id": "EXECUTING", "name": "Договор", "semantics": "process"}, {"id": "WON", "name": "Сделка успешна", "semantics": "success"},
        {"id": "LOSE", "name": "Сделка провалена", "semantics": "failure"}]}],
    "userfields": {"deal": [{"FIELD_NAME": "PLANFIX_TASK", "USER_TYPE_ID": "string", "LABEL": "Задача Planfix"},
                            {"FIELD_NAME": "PLANFIX_STATUS", "USER_TYPE_ID": "string", "LABEL": "Статус в Planfix"}]},
    "deals": [{"ID": 1, "TITLE": "Сайт для Ромашки", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 250000, "CURRENCY_ID": "RUB",
               "ASSIGNED_BY_ID": 2, "CLOSEDATE": "2024-06-28", "COMMENTS": "Нужен к лету"},
              {"ID": 2, "TITLE": "Брендинг Вектора", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 90000, "CURRENCY_ID": "RUB",
               "ASSIGNED_BY_ID": 3},
              {"ID": 3, "TITLE": "Логотип для новичка", "STAGE_ID": "NEW", "OPPORTUNITY": 30000, "CURRENCY_ID": "RUB",
               "ASSIGNED_BY_ID": 4}],
}

# The scenarios an admin sets up in Planfix for these rules (docs/bridge.md).
SCENARIOS: list[dict[str, Any]] = [
    {"name": "relay: status changed", "event": "status_changed",
     "request": {"url": "/hooks/planfix/task", "headers": HEADERS, "body": '{"event": "task.status_changed", "task": {{Задача.Номер}}}'}},
    {"name": "relay: task created", "event": "task_created",
     "request": {"url": "/hooks/planfix/task", "headers": HEADERS, "body": '{"event": "task.created", "task": {{Задача.Номер}}}'}},
]


def planfix_seed() -> dict[str, Any]:
    seed = demo_seed()
    seed["scenarios"] = copy.deepcopy(SCENARIOS)
    return seed


@dataclass
class Bridge:
    portal: RunningServer
    pf: Planfix
    runtime: Runtime
    relay: RunningServer

    @property
    def webhook(self) -> str:
        return f"{self.portal.url}/rest/1/{CODE}/"

    def call(self, method: str, params: dict[str, Any]) -> Any:
        body = requests.post(f"{self.webhook}{method}.json", json=params, timeout=10).json()
        assert "error" not in body, body
        return body["result"]

    def deal(self, deal_id: int) -> dict[str, Any]:
        return self.call("crm.deal.get", {"id": deal_id})

    def move(self, deal_id: int, **fields: Any) -> None:
        self.call("crm.deal.update", {"id": deal_id, "fields": fields})

    def timeline(self, deal_id: int) -> list[str]:
        rows = self.call("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}})
        return [r["COMMENT"] for r in sorted(rows, key=lambda r: int(r["ID"]))]

    def portal_control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return requests.post(f"{self.portal.url}/_emulator/{path}", json=body or {}, timeout=30).json()

    def tasks(self, fields: str = "id,name,assignees,status,103,104,endDateTime,description") -> list[dict[str, Any]]:
        rows = self.pf.post("/task/list", {"fields": fields, "pageSize": 100})
        return sorted((t for t in rows.json()["tasks"] if t["id"] > 1006), key=lambda t: t["id"])

    def status(self, task: int, status_id: int, user: str = "user:2") -> None:
        answer = self.pf.control("POST", f"/ui/tasks/{task}", {"user": user, "status": {"id": status_id}})
        assert not answer.get("failures"), answer

    def planfix_writes(self) -> dict[str, int]:
        routes = self.pf.control("GET", "/requests")["by_route"]
        return {k: v for k, v in routes.items() if k.startswith("POST") and "list" not in k}

    def events(self, status: str | None = None) -> int:
        with self.runtime.store.session() as s:
            query = select(func.count()).select_from(InboxEvent)
            return int(s.scalar(query.where(InboxEvent.status == status) if status else query) or 0)

    def steps(self, step: str) -> list[str]:
        with self.runtime.store.session() as s:
            return [r.message for r in s.scalars(select(TraceStep).where(TraceStep.step == step).order_by(TraceStep.id))]

    def settle(self, timeout: float = 30.0) -> None:
        """Until the portal and Planfix have delivered everything and the relay has processed it all."""
        worker = Worker(self.runtime)
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not settled: inbox {self.runtime.inbox.depth()}")
            self.portal_control("events/flush")
            self.pf.control("POST", "/deliveries/wait", {"timeout": 5})
            handled = worker.run_once()
            depth = self.runtime.inbox.depth()
            quiet = quiet + 1 if handled == 0 and not depth.get("pending") and not depth.get("processing") else 0
            if handled == 0:
                time.sleep(0.05)


def bridge_config(db_url: str, portal_url: str, planfix_url: str) -> str:
    return "mode: sandbox\n" + base_config(db_url, f"""\
connectors:
  bitrix24:
    webhook_url: "{portal_url}/rest/1/{CODE}/"
    application_token: {TOKEN}
    batch_linger_seconds: 0.01
    requests_per_second: 50
    sweep: {{interval_seconds: 3600}}
  planfix:
    account_url: "{planfix_url}/rest"
    token: "{DEFAULT_TOKEN}"
    scenario_secret: "{PF_SECRET}"
    timezone: UTC
    requests_per_second: 100
rules: [rules/bridge/*.yaml]
mappings: [mappings/bridge/*.yaml]
""")


def start_bridge(db_url: str, write_config: Callable[..., Path], tmp_path: Path, pf: Planfix,
                 mapping_edit: Callable[[str], str] | None = None) -> Bridge:
    from connectors.bitrix24.actions import LOOP_GUARD
    LOOP_GUARD.reset()  # per process; each test's portal is new, so its write history must be too
    for folder in ("rules", "mappings"):
        shutil.copytree(ROOT / folder / "bridge", tmp_path / folder / "bridge", dirs_exist_ok=True)
    if mapping_edit is not None:
        path = tmp_path / "mappings" / "bridge" / "bridge.yaml"
        path.write_text(mapping_edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    portal = serve_in_thread(create_portal(seed=copy.deepcopy(PORTAL_SEED), rate_limit=False))
    runtime = make_runtime(write_config(bridge_config(db_url, portal.url, pf.url)))
    relay = serve_in_thread(create_relay_app(runtime))
    pf.state.hook_base = relay.url
    requests.post(f"{portal.url}/_emulator/handlers", timeout=10,
                  json={"handlers": [{"event": e, "url": f"{relay.url}/hooks/bitrix24"} for e in DEAL_EVENTS]})
    return Bridge(portal, pf, runtime, relay)


def stop_bridge(bridge: Bridge) -> None:
    # werkzeug's shutdown polls every 0.5 s; nothing is in flight once a test is over
    for server in (bridge.relay, bridge.portal):
        threading.Thread(target=server.stop, daemon=True).start()
    bridge.pf.state.hook_base = None
    bridge.runtime.close()


@pytest.fixture(scope="module")
def planfix_server() -> Iterator[Planfix]:
    emulator, stop = start_planfix(planfix_seed())
    try:
        yield emulator
    finally:
        stop()


@pytest.fixture
def bridge(db_url: str, write_config: Callable[..., Path], tmp_path: Path, planfix_server: Planfix) -> Iterator[Bridge]:
    running = start_bridge(db_url, write_config, tmp_path, planfix_server.fresh())
    try:
        yield running
    finally:
        stop_bridge(running)

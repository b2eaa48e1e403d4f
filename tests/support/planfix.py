"""The agency set-up for end-to-end tests: a Planfix emulator, a Telegram emulator and a relay running
the shipped rules/agency + mappings/agency, wired over real HTTP both ways.

Planfix runs on a hand-moved clock (status history, deadlines); Telegram on real time (the relay's
pacing and the emulator's flood windows must agree). Planfix delivers its scenario requests to the
relay's /hooks/planfix/…, Telegram its updates to /hooks/telegram/main; `settle()` waits until both
have delivered everything and the relay has processed it all, including what that caused.
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
from flask import Flask

from emulators.common.server import RunningServer, serve_in_thread
from emulators.planfix import DEFAULT_TOKEN
from emulators.telegram import Clock
from relay.runtime import Runtime
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.connectors.test_telegram_helpers import SECRET as TG_SECRET
from tests.connectors.test_telegram_helpers import Emu, wait_for
from tests.emulators.test_planfix_fixtures import Planfix, demo_seed
from tests.emulators.test_planfix_fixtures import start as start_planfix
from tests.emulators.test_telegram_helpers import CLIENT_GROUP, CLIENT_SG, STAFF, TOKEN, emu_session, serve_emulator
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
PF_SECRET = "relay-planfix-scenario-secret-1"
RESULT_FIELD = 112  # "Итог работы": the result of the work, shown in the "done" message

HEADERS = {"X-Relay-Secret": PF_SECRET}
# The scenarios an admin sets up in Planfix for these rules (docs/planfix.md, "Scenario requests").
SCENARIOS: list[dict[str, Any]] = [
    {"name": "relay: status changed", "event": "status_changed",
     "request": {"url": "/hooks/planfix/task", "headers": HEADERS,
                 "body": '{"event": "task.status_changed", "task": {{Задача.Номер}}}'}},
    {"name": "relay: task created", "event": "task_created",
     "request": {"url": "/hooks/planfix/task", "headers": HEADERS, "body": '{"event": "task.created", "task": {{Задача.Номер}}}'}},
    {"name": "relay: payment task changed", "event": "task_changed", "when": {"process": 2},
     "request": {"url": "/hooks/planfix/task", "headers": HEADERS, "body": '{"event": "payment.changed", "task": {{Задача.Номер}}}'}},
    {"name": "relay: comment for client", "event": "comment_added",
     "when": {"comment_owner": "user", "comment_recipient": "contact", "comment_has_text": True},
     "request": {"url": "/hooks/planfix/comment", "headers": HEADERS,
                 "body": '{"event": "task.comment_added", "task": {{Задача.Номер}}, "comment": {{Комментарий.Номер}}}'}},
]


def agency_seed() -> dict[str, Any]:
    """The demo account with the Telegram emulator's chats in the communication tasks, a result field,
    and the relay's scenarios."""
    seed = demo_seed()
    seed["custom_fields"]["task"].append({"id": RESULT_FIELD, "name": "Итог работы", "type": 2})
    for task in seed["tasks"]:
        for item in task.get("customFieldData") or []:
            if item["field"] == 101:
                item["value"] = str(CLIENT_SG if task["id"] == 1001 else CLIENT_GROUP)
        if task["id"] == 1003:
            task.setdefault("customFieldData", []).append({"field": RESULT_FIELD, "value": "Макет главной страницы, 3 варианта"})
    seed["scenarios"] = copy.deepcopy(SCENARIOS)
    return seed


def planfix_config(db_url: str, planfix_url: str, telegram_url: str, per_second: float = 100.0, extra: str = "") -> str:
    # sandbox mode: the emulators' demo credentials are refused in live mode
    return "mode: sandbox\n" + base_config(db_url, f"""\
connectors:
  planfix:
    account_url: "{planfix_url}/rest"
    token: "{DEFAULT_TOKEN}"
    scenario_secret: "{PF_SECRET}"
    timezone: UTC
    requests_per_second: {per_second}
    retries: 6
{extra}  telegram:
    bots:
      main:
        token: "{TOKEN}"
        secret_token: "{TG_SECRET}"
        api_url: "{telegram_url}"
        staff_chat_id: {STAFF}
    pacing:
      per_chat: {{count: 50, seconds: 1}}
      per_group: {{count: 50, seconds: 1}}
rules: [rules/agency/*.yaml]
mappings: [mappings/agency/*.yaml]
""")


@dataclass
class Agency:
    pf: Planfix
    tg: Emu
    runtime: Runtime
    server: RunningServer

    def settle(self, timeout: float = 30.0) -> None:
        """Until Planfix and Telegram have delivered everything and the relay has processed it all."""
        worker = Worker(self.runtime)
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not settled: inbox {self.runtime.inbox.depth()}, planfix {self.pf.control('GET', '/deliveries')['queue']}")
            self.pf.control("POST", "/deliveries/wait", {"timeout": 5})
            wait_for(self.tg.delivered)
            handled = worker.run_once()
            depth = self.runtime.inbox.depth()
            quiet = quiet + 1 if handled == 0 and not depth.get("pending") and not depth.get("processing") else 0
            if handled == 0:
                time.sleep(0.05)

    def ui(self, task: int, user: str = "user:4", **change: Any) -> Any:
        """A person changes the task in Planfix's own interface (fires the scenarios)."""
        answer = self.pf.control("POST", f"/ui/tasks/{task}", {"user": user, **change})
        assert not answer.get("failures"), answer
        return answer

    def status(self, task: int, status_id: int, user: str = "user:4") -> None:
        self.ui(task, user, status={"id": status_id})

    def task(self, task: int, fields: str = "id,name,status,assignees") -> dict[str, Any]:
        return self.pf.task(task, fields)

    def comments(self, task: int) -> list[dict[str, Any]]:
        rows = self.pf.post(f"/task/{task}/comments/list", {"fields": "id,description,owner,recipients,files,dateTime",
                                                             "typeList": "Comments"}).json()["comments"]
        return sorted(rows, key=lambda c: c["id"])

    def steps(self, step: str) -> list[str]:
        from sqlalchemy import select

        from relay.store.schema import TraceStep
        with self.runtime.store.session() as s:
            return [r.message for r in s.scalars(select(TraceStep).where(TraceStep.step == step).order_by(TraceStep.id))]


def start_agency(db_url: str, write_config: Callable[..., Path], tmp_path: Path, pf: Planfix, tg: Emu,
                 per_second: float = 100.0, extra: str = "") -> Agency:
    """A relay with the shipped agency rules, its hooks registered in both emulators."""
    for folder in ("rules", "mappings"):
        shutil.copytree(ROOT / folder / "agency", tmp_path / folder / "agency", dirs_exist_ok=True)
    runtime = make_runtime(write_config(planfix_config(db_url, pf.url, tg.url, per_second, extra)))
    server = serve_in_thread(create_relay_app(runtime))
    pf.state.hook_base = server.url
    tg.post("limits", per_chat={"count": 50, "seconds": 1}, per_group={"count": 50, "seconds": 1})  # pacing is not under test here
    tg.set_webhook(f"{server.url}/hooks/telegram/main")
    return Agency(pf, tg, runtime, server)


def stop_agency(agency: Agency) -> None:
    # werkzeug's shutdown polls every 0.5 s; nothing is in flight once a test is over
    threading.Thread(target=agency.server.stop, daemon=True).start()
    agency.pf.state.hook_base = None
    agency.runtime.close()


def post_hook(url: str, body: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(url, data=body.encode(), headers={"Content-Type": "application/json", **(headers or {})}, timeout=10)


# --- fixtures (import them into a test module by name) --------------------------------------------
@pytest.fixture(scope="module")
def planfix_server() -> Iterator[Planfix]:
    """One Planfix emulator per module with the agency seed; each test starts it afresh."""
    emulator, stop = start_planfix(agency_seed())
    try:
        yield emulator
    finally:
        stop()


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[tuple[Flask, RunningServer]]:
    with serve_emulator(Clock()) as running:  # real time: the relay's pacing runs on it too
        yield running


@pytest.fixture
def tg(telegram_server: tuple[Flask, RunningServer]) -> Iterator[Emu]:
    with emu_session(telegram_server, Emu) as session:
        yield session


@pytest.fixture
def agency(db_url: str, write_config: Callable[..., Path], tmp_path: Path, planfix_server: Planfix, tg: Emu) -> Iterator[Agency]:
    running = start_agency(db_url, write_config, tmp_path, planfix_server.fresh(), tg)
    try:
        yield running
    finally:
        stop_agency(running)

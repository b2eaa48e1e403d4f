"""Time reports (S23) end to end: a work history made in the Planfix emulator (status changes on its
hand-moved clock, time-tracking entries over REST), read by the relay's report source `planfix:time`,
asked over HTTP and through `app.py report`, and the half-month summary sent once to the staff chat of
the Telegram emulator. Every figure is worked out by hand below.

The Planfix account keeps UTC; the reports count Moscow days (UTC+3), so 1–15 May 2024 is
2024-04-30 21:00Z to 2024-05-15 21:00Z.
"""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from connectors.time_reports.periods import parse_period
from emulators.common.server import RunningServer, serve_in_thread
from emulators.planfix import DEFAULT_TOKEN
from relay.runtime import Runtime
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.connectors.test_telegram_helpers import SECRET as TG_SECRET
from tests.connectors.test_telegram_helpers import stop
from tests.emulators.test_planfix_fixtures import START, Planfix, demo_seed
from tests.emulators.test_planfix_fixtures import start as start_planfix
from tests.emulators.test_telegram_helpers import STAFF, TOKEN
from tests.support.planfix import telegram_server, tg
from tests.support.relay import base_config, make_runtime

__all__ = ["telegram_server", "tg"]
ROOT = Path(__file__).resolve().parents[2]
REPORT_TOKEN = "time-report-token-0123456789abcdefghijklmnop"
S14_NOTE = "Чистое время в работе (по статусам)"


@pytest.fixture(scope="module")
def planfix_server() -> Iterator[Planfix]:
    emulator, stop_emulator = start_planfix(demo_seed())
    try:
        yield emulator
    finally:
        stop_emulator()


def config(db_url: str, pf: Planfix, telegram_url: str) -> str:
    return "mode: sandbox\n" + base_config(db_url, f"""\
connectors:
  planfix:
    account_url: "{pf.url}/rest"
    token: "{DEFAULT_TOKEN}"
    scenario_secret: "time-report-scenario-secret"
    timezone: UTC
    requests_per_second: 100
  time_reports:
    summary: {{check_seconds: 0}}
  reports:
    token: {REPORT_TOKEN}
  telegram:
    bots:
      main:
        token: "{TOKEN}"
        secret_token: "{TG_SECRET}"
        api_url: "{telegram_url}"
        staff_chat_id: {STAFF}
rules: [rules/time_reports/*.yaml]
mappings: [mappings/time_reports/*.yaml]
""")


class World:
    def __init__(self, runtime: Runtime, server: RunningServer, pf: Planfix, config_path: Path) -> None:
        self.runtime, self.server, self.pf, self.config_path = runtime, server, pf, config_path

    def report(self, name: str, fmt: str, **params: str) -> requests.Response:
        return requests.get(f"{self.server.url}/reports/{name}.{fmt}", params=params, timeout=30,
                            headers={"Authorization": f"Bearer {REPORT_TOKEN}"})


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path, planfix_server: Planfix, tg: Any) -> Iterator[World]:
    for folder in ("rules", "mappings"):
        shutil.copytree(ROOT / folder / "time_reports", tmp_path / folder / "time_reports")
    (tmp_path / "reports").mkdir()
    shutil.copy(ROOT / "reports" / "time.yaml", tmp_path / "reports" / "time.yaml")
    pf = planfix_server.fresh()
    build_history(pf)
    path = write_config(config(db_url, pf, tg.url))
    runtime = make_runtime(path)
    server = serve_in_thread(create_relay_app(runtime))
    try:
        yield World(runtime, server, pf, path)
    finally:
        stop(server)
        runtime.close()


def build_history(pf: Planfix) -> None:
    """Work done in May 2024 (times UTC; the clock starts at 1 May 10:00):

    - 1004 «Ромашка: верстка» (Мария Волкова, project 1): in work 10:00–11:30 and 12:15–12:45 → 120 min on 1 May.
    - 1006 «Вектор: логотип» (Игорь Кузнецов, project 2): seeded in work, out at 11:00 → 60 min on 1 May.
    - 1001 «Ромашка: коммуникация»: seeded in work, out at 10:00 at once → nothing.
    - «Срочная правка» (no assignee, no project): created in work at 10:00, done at 11:00 → 60 min on 1 May.
    - 1003 «Ромашка: дизайн главной страницы» (Игорь Кузнецов, project 1): in work 15 May 20:00 – 22:30,
      i.e. 23:00–01:30 Moscow time: 60 min in the first half of May, 90 min on 16 May.
    - entries of «Учет времени»: 45 min on 1005 by Олег Петров (10 May); 10:00–11:30 on 1003 by Игорь
      (16 May, «Дизайн»); 120 min S14 total on 1004 (not counted twice); 60 min on 1 June (outside).
    """
    def status(task: int, status_id: int) -> None:
        answer = pf.control("POST", f"/ui/tasks/{task}", {"user": "user:2", "status": {"id": status_id}})
        assert not answer.get("failures"), answer

    status(1001, 1)
    status(1004, 2)
    urgent = pf.create_task(name="Срочная правка", status={"id": 2})
    pf.advance(60 * 60)
    status(1006, 3)
    status(urgent, 5)
    pf.advance(30 * 60)
    status(1004, 3)
    pf.advance(45 * 60)
    status(1004, 2)
    pf.advance(30 * 60)
    status(1004, 5)
    pf.advance(datetime(2024, 5, 15, 20, 0, tzinfo=timezone.utc).timestamp() - START - 165 * 60)
    status(1003, 2)
    pf.advance(150 * 60)
    status(1003, 5)
    for task, values in ((1005, {401: {"date": "10-05-2024"}, 403: 45, 404: {"id": "user:3"}, 406: "Созвон с клиентом"}),
                         (1003, {401: {"date": "16-05-2024"}, 402: {"from": {"time": "10:00"}, "to": {"time": "11:30"}},
                                 404: {"id": "user:4"}, 405: {"id": 1}}),
                         (1004, {401: {"date": "01-05-2024"}, 403: 120, 404: {"id": "user:5"}, 406: S14_NOTE}),
                         (1003, {401: {"date": "01-06-2024"}, 403: 60, 404: {"id": "user:4"}})):
        items = [{"customFieldData": [{"field": {"id": k}, "value": v} for k, v in values.items()]}]
        answer = pf.post(f"/task/{task}/datatags/", {"dataTag": {"id": 4}, "items": items})
        assert answer.status_code == 201, answer.text


FIRST_HALF = [["employee_id", "employee", "project_id", "project", "minutes", "hours", "tasks"],
              ["", "(не назначен)", "", "(без проекта)", "60", "1", "1"],
              ["user:5", "Волкова Мария", "1", "Ромашка — сайт", "120", "2", "1"],
              ["user:4", "Кузнецов Игорь", "2", "Вектор — брендинг", "60", "1", "1"],
              ["user:4", "Кузнецов Игорь", "1", "Ромашка — сайт", "60", "1", "1"],
              ["user:3", "Петров Олег", "2", "Вектор — брендинг", "45", "0.75", "1"]]


def test_half_month_per_employee_and_project_over_http(world: World) -> None:
    answer = world.report("time-by-employee", "csv", period="2024-05-1")
    assert answer.status_code == 200, answer.text
    assert list(csv.reader(io.StringIO(answer.text))) == FIRST_HALF

    second = world.report("time-by-employee", "json", period="2024-05-2").json()
    assert second["params"] == {"period": "2024-05-2", "sources": "status,entry"}
    assert second["rows"] == [{"employee_id": "user:4", "employee": "Кузнецов Игорь", "project_id": 1, "project": "Ромашка — сайт",
                               "minutes": 180, "hours": 3, "tasks": 1}]

    by_status = world.report("time-by-employee", "csv", period="2024-05-1", sources="status").text
    assert [r[1:5] for r in csv.reader(io.StringIO(by_status))][1:] == [r[1:5] for r in FIRST_HALF[1:5]]


def test_pieces_are_split_at_moscow_midnight(world: World) -> None:
    rows = world.report("time-by-task", "json", period="2024-05-15..2024-05-16").json()["rows"]
    assert [(r["day"], r["task_id"], r["source"], r["minutes"], r["work_type"]) for r in rows] == [
        ("2024-05-15", 1003, "status", 60, ""),
        ("2024-05-16", 1003, "entry", 90, "Дизайн"),
        ("2024-05-16", 1003, "status", 90, "")]
    assert {r["task"] for r in rows} == {"Ромашка: дизайн главной страницы"}


def test_bad_requests_are_named(world: World) -> None:
    bad = world.report("time-by-employee", "csv", period="2024-13-1")
    assert bad.status_code == 400 and "2024-13-1" in bad.json()["reason"] and "2024-05-1 (1–15 May)" in bad.json()["reason"]
    unknown = world.report("time-by-employee", "csv", month="2024-05")
    assert unknown.status_code == 400 and "period, sources" in unknown.json()["reason"]


def test_cli_gives_the_same_rows(world: World) -> None:
    ran = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(world.config_path), "report", "time-by-employee",
                          "--param", "period=2024-05-1"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert list(csv.reader(io.StringIO(ran.stdout))) == FIRST_HALF
    listed = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(world.config_path), "report", "--list"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "time-by-employee\t" in listed.stdout and "[period=last, sources=status,entry]" in listed.stdout


SUMMARY = """⏱ Учёт времени за 1–15 мая 2024

(не назначен) — 1:00
  • (без проекта): 1:00

Волкова Мария — 2:00
  • Ромашка — сайт: 2:00

Кузнецов Игорь — 2:00
  • Вектор — брендинг: 1:00
  • Ромашка — сайт: 1:00

Петров Олег — 0:45
  • Вектор — брендинг: 0:45

Итого: 5:45 (ч:мин). Подробно: отчёты time-by-employee и time-by-task, период 2024-05-1."""


def test_summary_goes_to_the_staff_chat_once_per_half_month(world: World, tg: Any) -> None:
    connector = world.runtime.connector("time_reports")
    assert connector.queue_closed_period(datetime(2024, 5, 16, 6, 59, tzinfo=timezone.utc)) == 0   # 09:59 in Moscow
    assert connector.queue_closed_period(datetime(2024, 5, 16, 7, 0, tzinfo=timezone.utc)) == 1    # 10:00: due
    assert connector.queue_closed_period(datetime(2024, 5, 20, 12, 0, tzinfo=timezone.utc)) == 0   # the same period again
    other = make_runtime(world.config_path)        # another process on the same store runs the job too
    try:
        assert other.connector("time_reports").queue_closed_period(datetime(2024, 5, 17, 9, 0, tzinfo=timezone.utc)) == 0
    finally:
        other.close()
    Worker(world.runtime).run_once()
    Worker(world.runtime).run_once()
    assert tg.texts(STAFF) == [SUMMARY]
    sent = tg.sent(STAFF)[0]
    assert [sent["text"][e["offset"]:e["offset"] + e["length"]] for e in sent["entities"] if e["type"] == "bold"] == [
        "Учёт времени за 1–15 мая 2024", "(не назначен)", "Волкова Мария", "Кузнецов Игорь", "Петров Олег"]

    assert connector.queue_closed_period(datetime(2024, 6, 1, 7, 30, tzinfo=timezone.utc)) == 1   # 16–31 May
    Worker(world.runtime).run_once()
    texts = tg.texts(STAFF)
    assert len(texts) == 2 and texts[1].startswith("⏱ Учёт времени за 16–31 мая 2024\n\nКузнецов Игорь — 3:00\n  • Ромашка — сайт: 3:00")


def test_half_months_end_on_the_last_day_of_the_month() -> None:
    def span(text: str, today: date) -> tuple[str, str, str]:
        period = parse_period(text, today)
        return period.label, period.first.isoformat(), period.last.isoformat()

    assert span("last", date(2024, 5, 16)) == ("2024-05-1", "2024-05-01", "2024-05-15")
    assert span("last", date(2024, 5, 15)) == ("2024-04-2", "2024-04-16", "2024-04-30")
    assert span("last", date(2024, 1, 3)) == ("2023-12-2", "2023-12-16", "2023-12-31")
    assert span("current", date(2024, 2, 20)) == ("2024-02-2", "2024-02-16", "2024-02-29")
    assert span("2023-02-2", date(2024, 5, 1)) == ("2023-02-2", "2023-02-16", "2023-02-28")

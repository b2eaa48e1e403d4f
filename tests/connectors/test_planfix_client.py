"""The Planfix client and connector against the emulator: errors, 202, the 1 request/s limit, the sweep,
and the value shapes rules write."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from connectors.planfix.client import PlanfixClient, PlanfixError, RateBudget
from connectors.planfix.comments import telegram_html
from connectors.planfix.settings import PlanfixSettings
from connectors.planfix.values import ValueProblem, write_shape
from emulators.planfix import DEFAULT_TOKEN, SystemClock, create_app
from emulators.common.server import serve_in_thread
from relay.errors import TransientError, UpstreamUnavailable
from relay.store.schema import DeadLetter
from relay.worker import Worker
from tests.emulators.test_planfix_fixtures import Planfix, demo_seed, pf, pf_server
from tests.support.planfix import PF_SECRET, SCENARIOS
from tests.support.relay import base_config, make_runtime

__all__ = ["pf", "pf_server"]
SANDBOX = "mode: sandbox\n"  # the emulator's demo token is refused in live mode
RULES = """\
rules:
  - id: status-note
    when: {source: planfix, kind: "task.*", if: "change.changed('status')"}
    do:
      - planfix_comment: {text: "Статус: {{ task.status }}"}
"""


def _settings(pf: Planfix, **changes: object) -> PlanfixSettings:
    return PlanfixSettings.model_validate({"account_url": pf.rest, "token": DEFAULT_TOKEN, "scenario_secret": PF_SECRET,
                                           "timezone": "UTC", "requests_per_second": 100, "retries": 3, "retry_wait_seconds": 0.01,
                                           **changes})


def _client(pf: Planfix, **changes: object) -> PlanfixClient:
    return PlanfixClient(_settings(pf, **changes), RateBudget(100))


def test_refusals_carry_planfix_text_and_never_the_token(pf: Planfix) -> None:
    client = _client(pf)
    with pytest.raises(PlanfixError) as bad_status:
        client.post("/task/1003", {"status": {"id": 99}})
    assert "code 41: Status not find by id 99" in str(bad_status.value)
    wrong = PlanfixClient(_settings(pf).model_copy(update={"token": SecretStr("ffffffffffffffffffffffffffffffff")}), RateBudget(100))
    with pytest.raises(PlanfixError) as denied:
        wrong.get("/task/1003", "id")
    assert "Access denied, unknown token (check connectors.planfix.token)" in str(denied.value)
    assert "ffffffff" not in str(denied.value) and DEFAULT_TOKEN not in str(bad_status.value)


def test_server_errors_are_retried_then_handed_to_the_worker(pf: Planfix) -> None:
    pf.control("POST", "/knobs", {"error_script": [{"path": "/task/1003", "status": 500}, {"path": "/task/1003", "status": 502}]})
    assert _client(pf).get("/task/1003", "name")["task"]["name"] == "Ромашка: дизайн главной страницы"
    pf.control("POST", "/knobs", {"error_script": [{"path": "/task/1003", "status": 503}] * 3})
    with pytest.raises(TransientError) as exhausted:
        _client(pf, retries=3).get("/task/1003", "name")
    assert "gave up after 3 failures" in str(exhausted.value)
    # 5xx answers mean Planfix itself is down: the worker lets the event wait without using attempts.
    assert isinstance(exhausted.value, UpstreamUnavailable) and exhausted.value.upstream == "Planfix"


def test_a_queued_update_is_done_once_and_applies_shortly(pf: Planfix, db_url: str, write_config: Callable[..., Path]) -> None:
    runtime = make_runtime(write_config(SANDBOX + base_config(db_url, _config(pf.url))))
    try:
        planfix = runtime.connector("planfix")
        pf.control("POST", "/knobs", {"defer_updates": 1, "defer_seconds": 0})
        assert planfix.update_task(1004, {"status": {"id": 2}}).queued
        assert planfix.read_task(1004)["status"] == "В работе"        # Planfix applied it before the next request
        assert planfix.read_task(999999) is None
    finally:
        runtime.close()


# --- the request budget and the sweep, on a real-time emulator ------------------------------------
@pytest.fixture(scope="module")
def live_planfix() -> Iterator[Planfix]:
    seed = demo_seed(scenarios=[s for s in SCENARIOS if s["name"] == "relay: status changed"])
    app = create_app(seed, clock=SystemClock())
    server = serve_in_thread(app)
    planfix = Planfix(server, app, SystemClock())  # type: ignore[arg-type]
    try:
        yield planfix
    finally:
        server.stop()
        app.extensions["planfix"].close()


@pytest.fixture
def live(live_planfix: Planfix, db_url: str, write_config: Callable[..., Path]) -> Iterator[tuple[Planfix, object]]:
    live_planfix.control("POST", "/reset")
    runtime = make_runtime(write_config(SANDBOX + base_config(db_url, _config(live_planfix.url)), **{"rules__main.yaml": RULES}))
    server = serve_in_thread(__import__("relay.web.app", fromlist=["create_app"]).create_app(runtime))
    live_planfix.state.hook_base = server.url
    yield live_planfix, runtime
    live_planfix.control("POST", "/ratelimit", {"enabled": False})
    server.stop()
    runtime.close()


def test_the_rate_limit_is_waited_out_and_nothing_is_lost(live: tuple[Planfix, object]) -> None:
    pf, runtime = live
    pf.control("POST", "/ratelimit", {"enabled": True, "min_interval": 0.2})   # Planfix's 1 request/s, compressed
    tasks = (1001, 1003, 1004, 1005, 1006)
    for task in tasks:
        pf.control("POST", f"/ui/tasks/{task}", {"user": "user:2", "status": {"id": 4}})
    pf.control("POST", "/deliveries/wait", {"timeout": 5})
    worker = Worker(runtime)  # type: ignore[arg-type]
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while sum(len(_notes(pf, t)) for t in tasks) < len(tasks) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert {t: _notes(pf, t) for t in tasks} == {t: ["Статус: Требуются правки"] for t in tasks}
    assert runtime.connector("planfix").client.rate_limited > 0  # type: ignore[attr-defined]
    with runtime.store.session() as s:  # type: ignore[attr-defined]
        assert s.query(DeadLetter).count() == 0


def test_the_sweep_finds_a_change_whose_scenario_request_never_came(pf: Planfix, db_url: str, write_config: Callable[..., Path]) -> None:
    pf.control("POST", "/clock", {"set": time.time()})                 # the account's tasks last changed long ago
    runtime = make_runtime(write_config(SANDBOX + base_config(db_url, _config(pf.url)), **{"rules__main.yaml": RULES}))
    try:
        planfix = runtime.connector("planfix")
        assert planfix.sweeper.run() == 0                              # the first sweep only sets the cursor
        assert pf.post("/task/1004", {"status": {"id": 2}}, silent="true").status_code == 200   # no scenario fires
        assert planfix.sweeper.run() == 1
        Worker(runtime).run_once()
        assert _notes(pf, 1004) == ["Статус: В работе"]
        assert planfix.sweeper.run() == 0                              # seen now: not queued again
    finally:
        runtime.close()


def _notes(pf: Planfix, task: int) -> list[str]:
    """The relay's status notes on the task (read through the control API: it costs no rate budget)."""
    rows = pf.control("GET", "/state")["comments"]
    return [c["description"] for c in rows if c.get("task", {}).get("id") == task and c["description"].startswith("Статус:")]


def _config(url: str) -> str:
    return f"""\
connectors:
  planfix:
    account_url: "{url}/rest"
    token: "{DEFAULT_TOKEN}"
    scenario_secret: "{PF_SECRET}"
    timezone: UTC
    requests_per_second: 50
    retries: 8
    sweep: {{interval_seconds: 3600, overlap_minutes: 1}}
"""


# --- shapes ---------------------------------------------------------------------------------------
def test_values_take_the_shape_of_their_field_type() -> None:
    zone = ZoneInfo("Europe/Moscow")
    assert write_shape(3, "2024-05-31", zone) == {"date": "31-05-2024"}
    assert write_shape(5, "2024-05-31T18:00+03:00", zone) == "31-05-2024 18:00"
    assert write_shape(1, "1 500,5", zone) == 1500.5
    assert write_shape(11, "4", zone) == {"id": "user:4"}
    assert write_shape(10, "contact:11", zone) == {"id": "contact:11"}
    assert write_shape(14, "user:2, contact:11", zone) == [{"id": "user:2"}, {"id": "contact:11"}]
    assert write_shape(9, "2", zone) == {"id": 2}
    assert write_shape(7, "да", zone) is True
    with pytest.raises(ValueProblem, match="not a person"):
        write_shape(11, "Анна", zone)
    with pytest.raises(ValueProblem, match="not a date"):
        write_shape(3, "завтра", zone)


def test_comment_html_becomes_what_telegram_accepts() -> None:
    source = ('<p>Макет <strong>готов</strong> &amp; <span style="color:red">ждёт</span> вас:</p>'
              '<ul><li>вариант 1</li><li><a href="https://example.org/m?a=1&b=2">ссылка</a></li></ul><p>a &lt; b</p>'
              '<p><a href="javascript:alert(1)">x</a><b><i>смесь</b></i></p>')
    assert telegram_html(source) == ('Макет <b>готов</b> &amp; ждёт вас:\n• вариант 1\n'
                                     '• <a href="https://example.org/m?a=1&amp;b=2">ссылка</a>\na &lt; b\nx<b><i>смесь</i></b>')


FIELD_RULES = """\
rules:
  - id: fields
    when: {source: planfix, kind: "task.*", if: "change.changed('status')"}
    do:
      - planfix_set_fields:
          fields: {Менеджер проекта: "user:3", Бриф отправлен: "2024-05-31T18:00", Клиент: "contact:11",
                   Клиентская задача: "нет", "104": "1 500,5", Сделка Bitrix24: "{{ task.status }}"}
      - planfix_comment: {text: "Бриф отправлен клиенту", for_client: true, notify: [assignee]}
"""


def test_fields_are_written_in_their_shapes_and_their_echo_is_no_news(pf: Planfix, db_url: str, write_config: Callable[..., Path]) -> None:
    from relay.intake.base import IncomingEvent
    runtime = make_runtime(write_config(SANDBOX + base_config(db_url, _config(pf.url)), **{"rules__main.yaml": FIELD_RULES}))
    try:
        runtime.inbox.add("planfix", [IncomingEvent("task.status_changed", "planfix:task:1001", {"task": 1001}, "e1", repeatable=True)])
        Worker(runtime).run_once()
        task = pf.task(1001, "101,102,103,104,106,107,109")
        values = {c["field"]["name"]: c["value"] for c in task["customFieldData"]}
        assert values["Менеджер проекта"] == {"id": "user:3", "name": "Петров Олег"}
        assert values["Бриф отправлен"] == {"date": "31-05-2024", "time": "18:00"}
        assert values["Клиент"]["id"] == "contact:11" and values["Клиентская задача"] is False
        assert values["Сумма счета"] == 1500.5 and values["Сделка Bitrix24"] == "В работе"
        comment = [c for c in pf.post("/task/1001/comments/list", {"fields": "description,recipients"}).json()["comments"]
                   if c["description"] == "Бриф отправлен клиенту"]
        assert [sorted(r["id"] for r in c["recipients"]["users"]) for c in comment] == [["contact:11", "user:2"]]

        # Planfix's scenario reports the change the relay itself made: it is recognised as an echo
        runtime.inbox.add("planfix", [IncomingEvent("task.changed", "planfix:task:1001", {"task": 1001}, "e2", repeatable=True)])
        Worker(runtime).run_once()
        from sqlalchemy import select

        from relay.store.schema import TraceStep
        with runtime.store.session() as s:
            steps = [r.message for r in s.scalars(select(TraceStep).where(TraceStep.event_id == 2, TraceStep.step == "read-back"))]
        assert len(steps) == 1 and steps[0].startswith("task 1001 (В работе): no change (echo of own write: ")
        echoes = set(steps[0].split("own write: ")[1].rstrip(")").split(", "))
        assert echoes == {"Бриф отправлен", "Клиентская задача", "Менеджер проекта", "Сделка Bitrix24", "Сумма счета"}  # Клиент was already so
    finally:
        runtime.close()

"""Time in the agency rules, end to end: net working time (S14), the payment reminder on the right
working day (S15), the project's task set with working-day deadlines (S9)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

import relay.timers
from relay.store.schema import Timer
from tests.emulators.test_telegram_helpers import CLIENT_SG
from tests.support.planfix import Agency, agency, planfix_server, post_hook, telegram_server, tg

__all__ = ["agency", "planfix_server", "telegram_server", "tg"]
REMINDER = ("Через 5 рабочих дней период подходит к концу. Чтобы не останавливать процесс, оплатите, пожалуйста, "
            "заранее услуги продвижения и рекламный бюджет.")


def test_net_time_is_the_sum_of_the_in_work_periods(agency: Agency) -> None:
    for status, minutes in ((2, 90), (3, 45), (2, 30), (5, 0)):   # in work 90 min, approval 45, in work 30, done
        agency.status(1004, status, user="user:5")
        agency.settle()
        agency.pf.advance(minutes * 60)
    entries = _time_entries(agency, 1004)
    assert [(e["Минуты"], e["Сотрудник"], e["Комментарий"]) for e in entries] == [(120, "user:5", "Чистое время в работе (по статусам)")]
    assert entries[0]["Дата"]["date"] == datetime.now(timezone.utc).strftime("%d-%m-%Y")

    agency.status(1004, 2, user="user:5")                           # reopened: 20 more minutes, completed again
    agency.settle()
    agency.pf.advance(20 * 60)
    agency.status(1004, 5, user="user:5")
    agency.settle()
    assert [e["Минуты"] for e in _time_entries(agency, 1004)] == [140]   # one running total, updated


def test_payment_reminder_fires_on_the_working_day_five_working_days_before_the_end(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    # The period ends on Friday 14 June 2030. Counting back five working days: 14, 13, (12: Russia Day),
    # 11, 10, (9, 8: weekend), 7 → the reminder goes out on Thursday 6 June, 10:00.
    agency.ui(1002, user="user:2", endDateTime={"date": "14-06-2030"})
    agency.settle()
    assert [(t.fire_at, t.status) for t in _timers(agency)] == [(datetime(2030, 6, 6, 10, 0, tzinfo=timezone.utc), "pending")]
    agency.ui(1002, user="user:2", name="Ромашка: оплата этапа 1 (июнь)")     # other changes leave the reminder alone
    agency.settle()
    assert len(_timers(agency)) == 1

    _fire_timers_at(agency, monkeypatch, datetime(2030, 6, 6, 9, 59, tzinfo=timezone.utc))
    assert agency.tg.texts(CLIENT_SG) == []
    _fire_timers_at(agency, monkeypatch, datetime(2030, 6, 6, 10, 0, tzinfo=timezone.utc))
    assert agency.tg.texts(CLIENT_SG) == [REMINDER]                    # the project's client chat (task 1001's)


def test_a_new_period_end_moves_the_reminder(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    agency.ui(1002, user="user:2", endDateTime={"date": "14-06-2030"})
    agency.settle()
    agency.ui(1002, user="user:2", endDateTime={"date": "15-07-2030"})   # Monday → Monday 8 July
    agency.settle()
    assert sorted((t.fire_at.date().isoformat(), t.status) for t in _timers(agency)) == [("2030-06-06", "cancelled"),
                                                                                       ("2030-07-08", "pending")]


def test_no_reminder_when_the_payment_task_was_paid_first(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    agency.ui(1002, user="user:2", endDateTime={"date": "14-06-2030"})
    agency.settle()
    agency.status(1002, 13, user="user:2")                             # Оплачено
    agency.settle()
    assert [t.status for t in _timers(agency)] == ["cancelled"]
    _fire_timers_at(agency, monkeypatch, datetime(2030, 6, 6, 10, 0, tzinfo=timezone.utc))
    assert agency.tg.texts(CLIENT_SG) == []


def test_no_reminder_when_paid_without_the_relay_hearing_of_it(agency: Agency, monkeypatch: pytest.MonkeyPatch) -> None:
    agency.ui(1002, user="user:2", endDateTime={"date": "14-06-2030"})
    agency.settle()
    # paid in silent mode: no scenario request, so the timer is still pending when it comes due
    assert agency.pf.post("/task/1002", {"status": {"id": 13}}, silent="true").status_code == 200
    _fire_timers_at(agency, monkeypatch, datetime(2030, 6, 6, 10, 0, tzinfo=timezone.utc))
    assert [t.status for t in _timers(agency)] == ["fired"]
    assert agency.tg.texts(CLIENT_SG) == []
    assert any("Оплачено" in m for m in agency.steps("halt"))


def test_a_project_start_creates_its_task_set_once(agency: Agency) -> None:
    started = agency.pf.control("POST", "/ui/tasks", {"user": "user:3", "name": "Вектор: старт SMM", "template": {"id": 23},
                                                      "project": {"id": 2}, "assigner": {"id": "user:3"}})["id"]
    agency.settle()
    delivery = next(d for d in agency.pf.deliveries() if d["task"] == started and d["rule"] == "relay: task created")
    post_hook(delivery["url"], delivery["body"], delivery["headers"])   # Planfix delivers it again
    agency.settle()

    rows = agency.pf.post("/task/list", {"fields": "id,name,project,assignees,auditors,endDateTime,template",
                                         "filters": [{"type": 73, "operator": "equal", "value": started}]}).json()["tasks"]
    shown = [(t["name"], [u["id"] for u in t["assignees"]["users"]], [u["id"] for u in t.get("auditors", {}).get("users", [])],
              t["endDateTime"]["date"]) for t in sorted(rows, key=lambda t: t["id"])]
    # Deadlines in working days from the start (Wed 1 May 2024, 10:00): 2 and 3 May, then 6-8 May,
    # 9-12 May off (Victory Day and the transferred day, a weekend), and so on.
    assert shown == [("Вектор: старт SMM: бриф и доступы", ["user:3"], [], "03-05-2024"),
                     ("Вектор: старт SMM: стратегия продвижения", ["user:3"], ["user:6"], "08-05-2024"),
                     ("Вектор: старт SMM: дизайн-макеты", ["user:4"], ["user:3"], "14-05-2024"),
                     ("Вектор: старт SMM: контент-план на месяц", ["user:5"], ["user:3"], "17-05-2024"),
                     ("Вектор: старт SMM: отчёт за месяц", ["user:3"], ["user:6"], "04-06-2024")]
    assert all(t["project"]["id"] == 2 and t["template"]["id"] == 22 for t in rows)
    checklist = agency.pf.post(f"/task/{rows[0]['id']}/checklist/list", {"fields": "name"}).json()["items"]
    assert [i["name"] for i in checklist] == ["Изучить бриф", "Подготовить черновик", "Внутреннее ревью", "Отправить на согласование"]
    design = agency.pf.task(sorted(rows, key=lambda t: t["id"])[2]["id"], "110")
    assert design["customFieldData"][0]["value"] == {"id": 1, "value": "Дизайн"}


# --- helpers -----------------------------------------------------------------------------------
def _time_entries(agency: Agency, task: int) -> list[dict]:
    rows = agency.pf.post("/datatag/4/entry/list", {"taskId": task, "fields": "401,403,404,406"}).json()["dataTagEntries"]
    return [{c["field"]["name"]: (c["value"]["id"] if isinstance(c["value"], dict) and "name" in c["value"] else c["value"])
             for c in row["customFieldData"]} for row in rows]


def _timers(agency: Agency) -> list[Timer]:
    with agency.runtime.store.session() as s:
        return list(s.scalars(select(Timer).order_by(Timer.id)))


def _fire_timers_at(agency: Agency, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """The scheduler's tick at `moment` (timers compare their fire time with the relay's clock)."""
    monkeypatch.setattr(relay.timers, "utcnow", lambda: moment)
    agency.runtime.timers.fire_due()
    monkeypatch.undo()
    agency.settle()

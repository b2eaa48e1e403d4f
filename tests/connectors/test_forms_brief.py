"""S11 end to end over real HTTP: the PM's button in Planfix → the pre-filled link in the client chat
(Telegram emulator) → the client submits (Google Forms emulator pushes, signed) → the contact's fields
in the Planfix emulator, the staff chat and the client chat told, the reminder cancelled."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

import relay.timers
from relay.store import utcnow
from relay.store.schema import Timer
from tests.connectors.test_forms_helpers import FORM_ID, ROOT
from tests.connectors.test_forms_world import Brief, brief, brief_extra, gf_server
from tests.connectors.test_telegram_helpers import _emulator, emu
from tests.emulators.test_planfix_fixtures import pf, pf_server
from tests.emulators.test_telegram_helpers import CLIENT_SG, STAFF

__all__ = ["brief", "brief_extra", "gf_server", "_emulator", "emu", "pf", "pf_server"]

ANSWERS = {
    "Название компании": "ООО Ромашка", "Сайт": "https://romashka.example", "Телефон для связи": "8 (916) 765-43-21",
    "Email для связи": "Alice@Romashka.Example", "Бюджет проекта, ₽": "350 000", "Желаемый срок запуска": "2025-12-01",
    "Что вы ожидаете от проекта?": "Новый сайт с каталогом", "Откуда вы о нас узнали?": "По рекомендации",
    "Какие услуги нужны?": ["Сайт", "SEO"], "Как вы видите работу с подрядчиками?": "Еженедельные созвоны",
}
THANKS = "Спасибо! Мы получили заполненный бриф"


def _timers(brief: Brief) -> list[tuple[str, str]]:
    with brief.runtime.store.session() as s:
        return [(t.kind, t.status) for t in s.scalars(select(Timer).order_by(Timer.id))]


def test_button_link_submission_fields_and_messages(brief: Brief, monkeypatch: pytest.MonkeyPatch) -> None:
    tg = brief.agency.tg
    brief.press()
    brief.agency.settle()
    greeting = tg.texts(CLIENT_SG)[-1]
    assert greeting.startswith("Здравствуйте! Меня зовут Анна Смирнова, я менеджер проекта «Ромашка — сайт».")
    assert greeting.rstrip().endswith("С уважением, Анна Смирнова")
    link = brief.link(CLIENT_SG)
    assert link.startswith(f"https://docs.google.com/forms/d/e/{FORM_ID}/viewform?usp=pp_url&")
    assert "entry.1000000001=1001" in link and "entry.1000000002=11" in link
    assert _timers(brief) == [("brief.reminder", "pending")]

    pushed = brief.submit_from_link(link, **ANSWERS)
    assert pushed["push"]["status"] == 200, pushed
    brief.agency.settle()

    fields = brief.contact_fields(11)
    assert fields[201] == "ООО Ромашка" and fields[202] == "https://romashka.example"
    assert fields[203] == "+79167654321" and fields[204] == "Alice@romashka.example"
    assert fields[205] == 350000 and fields[206]["date"] == "01-12-2025"
    assert fields[207] == "Новый сайт с каталогом" and fields[208] == "Рекомендация" and fields[210] is True
    assert "📝 Клиент ООО Ромашка — проект Ромашка — сайт заполнил бриф (задача №1001)." in tg.texts(STAFF), tg.texts(STAFF)
    assert tg.texts(CLIENT_SG)[-1].startswith(THANKS)
    assert _timers(brief) == [("brief.reminder", "cancelled")]
    unmapped = brief.agency.steps("form.unmapped")
    assert len(unmapped) == 1 and "«Какие услуги нужны?»" in unmapped[0] and "«Как вы видите работу с подрядчиками?»" in unmapped[0]
    assert "Номер задачи" not in unmapped[0]

    # no reminder later: two weeks on, nothing is due and the chat hears nothing more
    sent_before = len(tg.texts(CLIENT_SG))
    monkeypatch.setattr(relay.timers, "utcnow", lambda: utcnow() + timedelta(days=14))
    assert brief.scheduler().tick() == 0
    brief.agency.settle()
    assert len(tg.texts(CLIENT_SG)) == sent_before


def test_a_duplicate_submission_changes_nothing(brief: Brief) -> None:
    tg = brief.agency.tg
    brief.press()
    brief.agency.settle()
    response = brief.submit_from_link(brief.link(CLIENT_SG), **ANSWERS)["response"]
    brief.agency.settle()
    client, staff, fields = tg.texts(CLIENT_SG), tg.texts(STAFF), brief.contact_fields(11)
    forms = brief.forms_app.extensions["google_forms"].state
    again = forms.push(forms.form(FORM_ID), response)       # the trigger ran twice / sendLatest()
    assert again["status"] == 200 and '"duplicates":1' in again["body"]
    brief.agency.settle()
    assert (tg.texts(CLIENT_SG), tg.texts(STAFF), brief.contact_fields(11)) == (client, staff, fields)


def test_a_repeated_send_supersedes_the_earlier_reminder(brief: Brief) -> None:
    brief.press()
    brief.agency.settle()
    brief.press(user="user:3")                                # pressed again (by another PM)
    brief.agency.settle()
    assert _timers(brief) == [("brief.reminder", "cancelled"), ("brief.reminder", "pending")]
    assert "Меня зовут Олег Петров" in brief.agency.tg.texts(CLIENT_SG)[-1]
    brief.submit_from_link(brief.link(CLIENT_SG), **ANSWERS)
    brief.agency.settle()
    assert _timers(brief) == [("brief.reminder", "cancelled"), ("brief.reminder", "cancelled")]


def test_a_changed_task_id_waits_for_review_and_resolving_applies_it(brief: Brief) -> None:
    tg = brief.agency.tg
    brief.press()
    brief.agency.settle()
    before = len(tg.texts(CLIENT_SG))
    # the client overwrote the pre-filled task number
    brief.submit({"Номер задачи (не меняйте)": "9999", "Номер контакта (не меняйте)": "11", **ANSWERS})
    brief.agency.settle()
    [item] = brief.runtime.reviews.list("form")
    assert "no brief link was sent for task 9999" in item.reason and item.subject.startswith("forms:brief:ACYDBN")
    assert len(tg.texts(CLIENT_SG)) == before and brief.contact_fields(11).get(203) in (None, "")
    assert _timers(brief) == [("brief.reminder", "pending")]

    listing = subprocess.run([sys.executable, "app.py", "--config", brief.runtime.config.file, "review"], capture_output=True,
                             text=True, cwd=ROOT, timeout=60)
    assert f"{item.id:>6}" in listing.stdout and "no brief link was sent for task 9999" in listing.stdout, listing.stderr

    brief.runtime.reviews.resolve(item.id, {"task": "first"}, by="admin")    # a slip: not a number
    brief.agency.settle()
    [again] = brief.runtime.reviews.list("form")
    assert again.subject == f"{item.subject}#{item.id}" and "cannot be applied" in again.reason
    brief.runtime.reviews.resolve(again.id, {"task": 1001}, by="admin")
    brief.agency.settle()
    assert brief.contact_fields(11)[203] == "+79167654321"
    assert tg.texts(CLIENT_SG)[-1].startswith(THANKS)
    assert _timers(brief) == [("brief.reminder", "cancelled")]
    assert brief.runtime.reviews.list("form") == []


def test_without_the_pressers_name_the_assignee_signs(brief: Brief) -> None:
    from tests.support.planfix import PF_SECRET, post_hook
    # a button set up with ids only: the relay reads the task and its first assignee signs
    answer = post_hook(f"{brief.agency.server.url}/hooks/planfix/brief", '{"event": "brief.send", "task": 1001}', {"X-Relay-Secret": PF_SECRET})
    assert answer.status_code == 200, answer.text
    brief.agency.settle()
    greeting = brief.agency.tg.texts(CLIENT_SG)[-1]
    assert "Меня зовут Смирнова Анна, я менеджер проекта «Ромашка: коммуникация»" in greeting
    assert "entry.1000000002=11" in brief.link(CLIENT_SG)        # the contact: the task's counterparty


def test_a_task_without_a_client_chat_tells_the_pm(brief: Brief) -> None:
    pf = brief.agency.pf
    task = pf.create_task(name="Новый клиент: коммуникация", template={"id": 20}, counterparty={"id": "contact:13"},
                          assignees={"users": [{"id": "user:3"}]})
    brief.press(task=task, user="user:3")
    brief.agency.settle()
    comments = brief.agency.comments(task)
    assert comments and comments[-1]["description"].startswith("Бриф не отправлен: у задачи нет чата клиента.")
    assert f"/bind {task}" in comments[-1]["description"]
    assert _timers(brief) == []

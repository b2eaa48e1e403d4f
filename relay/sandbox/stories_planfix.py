"""Demo stories: an agency serves its client through Planfix and a Telegram group (rules/agency/agency.yaml,
S10, S12, S13) and sends its brief as a Google Form (rules/brief/brief.yaml, S11).

The demo Planfix account (emulators/planfix/seeds/demo.yaml) has the project «Ромашка — сайт»: the
communication task 1001 and the production task 1004 «Ромашка: верстка» under it. Анна (the PM,
staff in Telegram) binds the client group to task 1001; Алиса (the client, Planfix contact 11)
writes and presses buttons there; Мария (the developer) moves her task in Planfix's interface,
which fires the account's scenarios ("send HTTP request") to the relay.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from relay.sandbox.demo import Demo, Skip, Step
from relay.sandbox.stories_crm import bot_messages, last_id, new_bot_messages, write
from relay.sandbox.watch import DemoFailed

AGENCY_CHAT = -1001000000004      # «Ромашка — сайт ↔ Студия» (emulators/telegram/seeds/demo.yaml)
PM_USER, CLIENT_USER = 100000001, 123456789   # Анна Смирнова (staff); Алиса Иванова (the client)
COMMUNICATION_TASK, LAYOUT_TASK, CONTACT = 1001, 1004, 11
DEVELOPER, PM = "user:5", "user:2"            # Мария Волкова, assignee of task 1004; Анна Смирнова in Planfix
IN_WORK, APPROVAL = 2, 3                      # statuses of the process «Клиентский проект»
BRIEF_ANSWERS = {                             # as the client types them; mappings/brief/brief.yaml converts them
    "Название компании": "ООО «Ромашка»",
    "Сайт": "https://romashka.example",
    "Телефон для связи": "8 (916) 123-45-67",
    "Email для связи": "Alice@Romashka.Example",
    "Бюджет проекта, ₽": "350 000",
    "Желаемый срок запуска": "2027-03-01",
    "Что вы ожидаете от проекта?": "Новый сайт с каталогом и личным кабинетом",
    "Откуда вы о нас узнали?": "По рекомендации",
}
BRIEF_FIELDS = range(201, 211)                # the contact fields of the brief (mappings/brief/brief.yaml)
SOURCES = ("telegram", "planfix", "forms")


# --- talking to the emulators -------------------------------------------------------------------------
def planfix(demo: Demo, method: str, path: str, **body: Any) -> dict[str, Any]:
    """Planfix REST v2 with the connector's token, as a person's script would read the account."""
    token = demo.connector("planfix").token.get_secret_value()
    kwargs: dict[str, Any] = {"json": body} if method == "POST" else {"params": body}
    return dict(demo.call(method, f"{demo.url('planfix')}/rest{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs))


def in_planfix_ui(demo: Demo, task: int, user: str, **change: Any) -> None:
    """A person changes the task in Planfix's own interface: the account's scenarios fire."""
    answer = demo.call("POST", f"{demo.url('planfix')}/_emulator/ui/tasks/{task}", json={"user": user, **change})
    if answer.get("failures"):
        raise DemoFailed(f"Planfix refused the change of task {task}: {answer['failures']}")


def status_of(demo: Demo, task: int) -> str:
    return str(planfix(demo, "GET", f"/task/{task}", fields="id,status")["task"]["status"]["name"])


def comments(demo: Demo, task: int) -> list[dict[str, Any]]:
    found = planfix(demo, "POST", f"/task/{task}/comments/list", fields="id,description,owner,recipients", typeList="Comments")
    return sorted(found.get("comments") or [], key=lambda c: c["id"])


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.replace("<br>", " · ")).replace("  ", " ").strip()


def contact_fields(demo: Demo, contact: int) -> dict[str, Any]:
    fields = ",".join(str(n) for n in BRIEF_FIELDS)
    found = planfix(demo, "GET", f"/contact/{contact}", fields=f"id,name,{fields}")["contact"]
    values = {c["field"]["name"]: c["value"] for c in found.get("customFieldData") or []}
    return {name: value.get("date", value) if isinstance(value, dict) else value for name, value in values.items()}


def newest_with(demo: Demo, chat: int, before: int, words: str) -> dict[str, Any] | None:
    found = [m for m in new_bot_messages(demo, chat, before) if words in (m["text"] or "")]
    return found[-1] if found else None


def needs_binding(demo: Demo) -> None:
    if not demo.state.get("agency_bound"):
        raise Skip("needs the client group bound to task 1001 (the first Planfix step)")


# --- the steps --------------------------------------------------------------------------------------
def bind_group(demo: Demo) -> None:
    demo.connector("planfix")
    before, since = last_id(demo, AGENCY_CHAT), demo.watch.mark()
    write(demo, AGENCY_CHAT, PM_USER, f"/bind {COMMUNICATION_TASK}")
    demo.say(f"Анна (the PM) writes `/bind {COMMUNICATION_TASK}` in the group «Ромашка — сайт ↔ Студия» ({AGENCY_CHAT}): "
             f"its communication task in Planfix")
    answer, _ = demo.watch.wait("the bot's answer in the group", since, ("telegram",), lambda: new_bot_messages(demo, AGENCY_CHAT, before))
    demo.say(f"the bot answers: {answer[-1]['text']}")
    demo.state["agency_bound"] = True
    demo.report(since, ("telegram",))


def client_writes(demo: Demo) -> None:
    needs_binding(demo)
    since = demo.watch.mark()
    text = f"Добрый день! Пришлите, пожалуйста, макет главной страницы ({datetime.now():%H:%M:%S})."
    write(demo, AGENCY_CHAT, CLIENT_USER, text)
    demo.say(f"Алиса (the client) writes in the group: {text}")
    found, _ = demo.watch.wait(f"the comment in Planfix task {COMMUNICATION_TASK}", since, ("telegram",),
                               lambda: [c for c in comments(demo, COMMUNICATION_TASK) if text in c["description"]])
    demo.say(f"Planfix task {COMMUNICATION_TASK} gets comment {found[-1]['id']}: {plain(found[-1]['description'])}")
    demo.say("deleting the message in Telegram now loses nothing: the task keeps it")
    demo.report(since, ("telegram",))


def work_starts(demo: Demo) -> None:
    needs_binding(demo)
    before, since = last_id(demo, AGENCY_CHAT), demo.watch.mark()
    in_planfix_ui(demo, LAYOUT_TASK, DEVELOPER, status={"id": IN_WORK})
    demo.say(f"Мария (the developer) sets her task {LAYOUT_TASK} «Ромашка: верстка» to «В работе» in Planfix; "
             f"Planfix's scenario sends the relay the task's number")
    told, _ = demo.watch.wait("the message in the client group", since, SOURCES,
                              lambda: newest_with(demo, AGENCY_CHAT, before, "начали работу"))
    demo.say(f"the client group (the task's parent is bound to it) gets: {told['text']}")
    demo.report(since, SOURCES)


def client_approves(demo: Demo) -> None:
    needs_binding(demo)
    before, since = last_id(demo, AGENCY_CHAT), demo.watch.mark()
    in_planfix_ui(demo, LAYOUT_TASK, DEVELOPER, status={"id": APPROVAL})
    demo.say(f"Мария puts task {LAYOUT_TASK} «На согласовании»")
    asked, _ = demo.watch.wait("the approval request with buttons", since, SOURCES,
                               lambda: [m for m in new_bot_messages(demo, AGENCY_CHAT, before) if m.get("reply_markup")])
    message = asked[-1]
    buttons = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    demo.say(f"the client group gets: {message['text']}  [{' | '.join(buttons)}]")
    demo.report(since, SOURCES)
    since = demo.watch.mark()
    approve = message["reply_markup"]["inline_keyboard"][0][0]
    demo.call("POST", f"{demo.url('telegram')}/_emulator/chats/{AGENCY_CHAT}/messages/{message['message_id']}/press",
              json={"from": CLIENT_USER, "data": approve["callback_data"]})
    demo.say(f"Алиса presses «{approve['text']}»")
    done, _ = demo.watch.wait(f"task {LAYOUT_TASK} completed and the group told", since, SOURCES,
                              lambda: status_of(demo, LAYOUT_TASK) == "Завершенная" and newest_with(demo, AGENCY_CHAT, before, "выполнена"))
    edited = next(m for m in bot_messages(demo, AGENCY_CHAT) if m["message_id"] == message["message_id"])
    note = [c for c in comments(demo, LAYOUT_TASK) if "утвердил" in c["description"]]
    demo.say(f"Planfix task {LAYOUT_TASK} is now «{status_of(demo, LAYOUT_TASK)}»; Мария is told in comment "
             f"{note[-1]['id'] if note else '—'}: {plain(note[-1]['description']) if note else '—'}")
    demo.say(f"the request in the group now ends with: {edited['text'].splitlines()[-1]}; and the group gets: {done['text']}")
    demo.report(since, SOURCES)


def brief_button(demo: Demo) -> None:
    needs_binding(demo)
    scenarios = demo.call("GET", f"{demo.url('planfix')}/_emulator/scenarios")["scenarios"]
    button = next((s["name"] for s in scenarios if s["event"] == "button" and "brief.send" in s["request"].get("body", "")), None)
    if button is None:
        raise Skip("the Planfix seed has no button scenario sending brief.send")
    before, since = last_id(demo, AGENCY_CHAT), demo.watch.mark()
    demo.call("POST", f"{demo.url('planfix')}/_emulator/scenarios/run", json={"name": button, "task": COMMUNICATION_TASK, "user": PM})
    demo.say(f"Анна presses «Отправить бриф» in task {COMMUNICATION_TASK} (Planfix's button scenario «{button}»)")
    sent, _ = demo.watch.wait("the brief's link in the client group", since, SOURCES,
                              lambda: newest_with(demo, AGENCY_CHAT, before, "viewform?"))
    demo.say(f"the client group gets: {sent['text']}")
    demo.say("a reminder waits 2 working days (`python app.py timers`)")
    demo.state["brief_link"] = re.search(r"https?://\S+viewform\?\S+", sent["text"]).group(0)  # type: ignore[union-attr]
    demo.report(since, SOURCES)


def brief_filled(demo: Demo) -> None:
    link = demo.state.get("brief_link")
    if link is None:
        raise Skip("needs the brief's link of the previous step")
    brief = demo.connector("forms").forms.get("brief")
    if brief is None:
        raise Skip("connectors.forms.forms.brief is not configured")
    entries = dict(parse_qsl(urlsplit(link).query))
    ids = {brief.task_question: entries.get(f"entry.{brief.task_entry}", ""),
           brief.contact_question: entries.get(f"entry.{brief.contact_entry}", "")}
    staff_chat = next(iter(demo.connector("telegram").bots.values())).staff_chat_id
    before, staff_before, since = last_id(demo, AGENCY_CHAT), last_id(demo, staff_chat) if staff_chat else 0, demo.watch.mark()
    answer = demo.call("POST", f"{demo.url('google_forms')}/_emulator/forms/{brief.form_id}/submit",
                       json={"answers": {**{k: v for k, v in ids.items() if k and v}, **BRIEF_ANSWERS}})
    demo.say(f"Алиса opens the link and submits the brief (task {ids.get(brief.task_question)}, contact "
             f"{ids.get(brief.contact_question)} pre-filled); the form's Apps Script pushes it, signed, to /hooks/forms/brief "
             f"→ HTTP {answer.get('push', {}).get('status')}")
    thanks, _ = demo.watch.wait("the contact's fields and the thank-you", since, ("forms",),
                                lambda: contact_fields(demo, CONTACT).get("Бриф заполнен") and newest_with(demo, AGENCY_CHAT, before, "бриф"))
    demo.say(f"Planfix contact {CONTACT} now has: " + "; ".join(f"{k}: {v}" for k, v in contact_fields(demo, CONTACT).items()))
    staff = newest_with(demo, staff_chat, staff_before, "бриф") if staff_chat else None
    demo.say(f"the staff chat gets: {staff['text'] if staff else '—'}")
    demo.say(f"the client group gets: {thanks['text']}")
    demo.report(since, ("forms",))


NEEDS = ("telegram", "planfix")
STEPS = [
    Step("Telegram + Planfix: the PM binds the agency's client group to its Planfix task", bind_group, NEEDS),
    Step("Telegram → Planfix: the client writes in the group → a comment in the task (S10)", client_writes, NEEDS),
    Step("Planfix: a production task goes «В работе» → the client group hears it (S12)", work_starts, NEEDS),
    Step("Planfix → Telegram: the task goes for approval, the client presses «Утвердить» → the task is completed (S13)",
         client_approves, NEEDS),
    Step("Planfix: the PM presses «Отправить бриф» → the form's link in the client group (S11)", brief_button, NEEDS),
    Step("Google Forms → Planfix: the client submits the brief → the contact's fields, the staff chat, a thank-you (S11)",
         brief_filled, (*NEEDS, "google_forms")),
]

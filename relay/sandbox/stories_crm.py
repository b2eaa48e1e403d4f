"""Demo stories: linked deals in Bitrix24 (rules/linked_deals.yaml) and the client chat in Telegram
(rules/client_chats.yaml), for one client of the demo seeds, ООО «Ромашка».

People are played through the emulators: the manager and the logistician call Bitrix24's REST API,
Анна (staff) and Ольга (the client) write in Telegram through the emulator's "be a user" endpoints.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from relay.sandbox.demo import Demo, Skip, Step
from relay.sandbox.watch import DemoFailed, poll

# From emulators/bitrix24/seeds/demo.yaml and emulators/telegram/seeds/demo.yaml.
ROMASHKA_COMPANY, ROMASHKA_CONTACT, SALES_MANAGER = 2, 1, 2
RATE_LIMIT_TRIES = 30
CLIENT_CHAT = -1001000000002      # «ООО «Ромашка» ↔ Поддержка»
STAFF_USER = 100000001            # Анна Смирнова, a member of the staff chat
CLIENT_USER = 200000001           # Ольга Кузнецова, ООО «Ромашка»
STAGE_NAMES = {"NEW": "Новая", "UC_EVALUATE": "Оценить", "UC_ESTIMATE_READY": "Оценка готова",
               "C1:NEW": "Логистика / Новая", "C1:UC_APPROVAL": "Логистика / На согласовании", "C2:NEW": "Инжиниринг / Новая"}


# --- talking to the emulators -------------------------------------------------------------------------
def b24(demo: Demo, method: str, **params: Any) -> Any:
    """A Bitrix24 REST call through the portal's incoming webhook, as a person's browser would make it."""
    path = urlsplit(demo.connector("bitrix24").webhook_url.get_secret_value()).path.rstrip("/")
    url = f"{demo.url('bitrix24')}{path}/{method}.json"
    for _ in range(RATE_LIMIT_TRIES):
        answer = demo.http.post(url, json=params, timeout=30)
        if answer.status_code != 503 or "QUERY_LIMIT_EXCEEDED" not in answer.text:
            break
        time.sleep(1)  # the portal's request budget is shared with the relay: wait for it, as a browser would
    body = answer.json() if "json" in answer.headers.get("Content-Type", "") else {}
    if not answer.ok or "error" in body:
        raise DemoFailed(f"Bitrix24 {method} answered {answer.status_code}: {body.get('error')}: {body.get('error_description') or answer.text[:200]}")
    return body["result"]


def deal(demo: Demo, deal_id: int) -> dict[str, Any]:
    return dict(b24(demo, "crm.deal.get", id=deal_id))


def children(demo: Demo, parent: int) -> list[dict[str, Any]]:
    return list(b24(demo, "crm.deal.list", filter={"UF_CRM_PARENT_DEAL": str(parent)},
                    select=["ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "ASSIGNED_BY_ID"], order={"ID": "ASC"}))


def write(demo: Demo, chat: int, user: int, text: str) -> int:
    """A person writes in a chat (the emulator turns it into an update for the relay's webhook)."""
    answer = demo.call("POST", f"{demo.url('telegram')}/_emulator/chats/{chat}/messages", json={"from": user, "text": text})
    return int(answer["message_id"])


def bot_messages(demo: Demo, chat: int) -> list[dict[str, Any]]:
    return list(demo.call("GET", f"{demo.url('telegram')}/_emulator/chats/{chat}/sent"))


def new_bot_messages(demo: Demo, chat: int, before: int) -> list[dict[str, Any]]:
    return [m for m in bot_messages(demo, chat) if m["message_id"] > before]


def last_id(demo: Demo, chat: int) -> int:
    return max((m["message_id"] for m in demo.call("GET", f"{demo.url('telegram')}/_emulator/chats/{chat}/messages")), default=0)


def stage(value: str) -> str:
    return f"{STAGE_NAMES.get(value, value)} ({value})"


def the_deal(demo: Demo) -> int:
    if "deal" not in demo.state:
        raise Skip("needs the deal of step 1")
    return int(demo.state["deal"])


# --- the steps --------------------------------------------------------------------------------------
def create_deal(demo: Demo) -> None:
    title = f"Станки ЧПУ для «Ромашки» ({datetime.now():%H:%M:%S})"
    since = demo.watch.mark()
    deal_id = int(b24(demo, "crm.deal.add", fields={
        "TITLE": title, "CATEGORY_ID": 0, "STAGE_ID": "NEW", "OPPORTUNITY": 480000, "CURRENCY_ID": "RUB",
        "COMPANY_ID": ROMASHKA_COMPANY, "CONTACT_ID": ROMASHKA_CONTACT, "ASSIGNED_BY_ID": SALES_MANAGER}))
    demo.state["deal"] = deal_id
    demo.say(f"the sales manager creates deal #{deal_id} «{title}» in Продажи / Новая")
    demo.watch.wait(f"the relay's event for deal #{deal_id}", since, ("bitrix24",), lambda: True)
    demo.report(since, ("bitrix24",))


def bind_chat(demo: Demo) -> None:
    deal_id = the_deal(demo)
    demo.connector("telegram")
    before, since = last_id(demo, CLIENT_CHAT), demo.watch.mark()
    write(demo, CLIENT_CHAT, STAFF_USER, f"/deal {deal_id}")
    demo.say(f"Анна (staff) writes `/deal {deal_id}` in the client chat «ООО «Ромашка» ↔ Поддержка» ({CLIENT_CHAT})")
    answer, _ = demo.watch.wait("the bot's answer in the client chat", since, ("telegram",),
                                lambda: new_bot_messages(demo, CLIENT_CHAT, before))
    demo.say(f"the bot answers in the chat: {answer[-1]['text']}")
    demo.state["chat_bound"] = True
    demo.report(since, ("telegram",))


def evaluate(demo: Demo) -> None:
    deal_id = the_deal(demo)
    before = last_id(demo, CLIENT_CHAT) if demo.state.get("chat_bound") else 0
    since = demo.watch.mark()
    b24(demo, "crm.deal.update", id=deal_id, fields={"STAGE_ID": "UC_EVALUATE"})
    demo.say(f"the manager moves deal #{deal_id} to {stage('UC_EVALUATE')}")
    made, _ = demo.watch.wait("two child deals (Logistics, Engineering)", since, ("bitrix24",),
                              lambda: (found := children(demo, deal_id)) and len(found) >= 2 and found)
    for child in made:
        demo.say(f"child deal #{child['ID']} «{child['TITLE']}» in {stage(child['STAGE_ID'])}")
    demo.state["children"] = {str(c["CATEGORY_ID"]): int(c["ID"]) for c in made}
    links = deal(demo, deal_id).get("UF_CRM_CHILD_DEALS")
    demo.say(f"deal #{deal_id} now lists its children in UF_CRM_CHILD_DEALS: {links}")
    if demo.state.get("chat_bound"):  # rules/client_chats.yaml tells the bound chat
        told = poll(lambda: new_bot_messages(demo, CLIENT_CHAT, before), "the client chat's message about the evaluation", 15)
        demo.say(f"the client chat is told: {told[-1]['text']}")
    demo.report(since, ("bitrix24",))


def approve(demo: Demo) -> None:
    deal_id = the_deal(demo)
    logistics = demo.state.get("children", {}).get("1")
    if logistics is None:
        raise Skip("needs the Logistics child deal of the previous step")
    since = demo.watch.mark()
    deadline = (date.today() + timedelta(days=10)).isoformat()
    b24(demo, "crm.deal.update", id=logistics, fields={
        "STAGE_ID": "C1:UC_APPROVAL", "UF_CRM_COST_PRICE": "310000|RUB", "UF_CRM_PLANNED_DEADLINE": deadline})
    demo.say(f"the logistician puts child deal #{logistics} up for approval ({stage('C1:UC_APPROVAL')}), "
             f"cost price 310 000 RUB, planned deadline {deadline}")
    parent, _ = demo.watch.wait(f"deal #{deal_id} reaching {stage('UC_ESTIMATE_READY')}", since, ("bitrix24",),
                                lambda: (found := deal(demo, deal_id))["STAGE_ID"] == "UC_ESTIMATE_READY" and found)
    demo.say(f"the relay updates parent deal #{deal_id}: stage {stage(parent['STAGE_ID'])}; "
             f"children «{parent.get('UF_CRM_CHILD_STAGE')}»; cost price {parent.get('UF_CRM_COST_PRICE')}; "
             f"estimated by user {parent.get('UF_CRM_ESTIMATED_BY')} in {parent.get('UF_CRM_ESTIMATE_HOURS')} working hours")
    demo.say(f"why each field has its value: {demo.relay}/admin/entity?key=bitrix24:deal:{deal_id}")
    demo.report(since, ("bitrix24",))


def client_writes(demo: Demo) -> None:
    staff_chat = next(iter(demo.connector("telegram").bots.values())).staff_chat_id
    if staff_chat is None:
        raise Skip("connectors.telegram.bots.*.staff_chat_id is not set")
    before, since = last_id(demo, staff_chat), demo.watch.mark()
    text = "Добрый день! Когда будет готова оценка по станкам?"
    write(demo, CLIENT_CHAT, CLIENT_USER, text)
    demo.say(f"Ольга (the client) writes in the client chat: {text}")
    forwarded, _ = demo.watch.wait("the message in the staff chat", since, ("telegram",),
                                   lambda: [m for m in new_bot_messages(demo, staff_chat, before) if text in (m["text"] or "")])
    demo.say(f"the staff chat ({staff_chat}) gets: {forwarded[-1]['text']}")
    demo.report(since, ("telegram",))


STEPS = [
    Step("Bitrix24: a manager creates a sales deal for ООО «Ромашка»", create_deal, ("bitrix24",)),
    Step("Telegram: staff bind the client's chat to the deal", bind_chat, ("telegram",)),
    Step("Bitrix24: the deal goes to «Оценить» → child deals in Logistics and Engineering", evaluate, ("bitrix24",)),
    Step("Bitrix24: Logistics sends its estimate for approval → the sales deal is updated", approve, ("bitrix24",)),
    Step("Telegram: the client writes in the chat → the staff chat sees it", client_writes, ("telegram",)),
]

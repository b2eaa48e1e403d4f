"""The end state of a chaos run, checked: nothing lost, nothing doubled, parents true to their children.

`check()` returns a Report; its `problems` must be empty. Everything else in it is what the run
went through (faults injected, events dropped, kills, interrupted sends), for the test's output
and the benchmark page.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from connectors.bitrix24.wire import link_id
from emulators.bitrix24.dispatch import invoke
from relay.store import Store
from relay.store.schema import BankOperation, DeadLetter, InboxEvent, Link
from tests.chaos.load import Done
from tests.chaos.processes import Relay
from tests.chaos.world import Emulators

SEEDED_TRANSACTIONS = {8865, 8866, 8867}
DEPARTMENTS = {"1": "Логистика", "2": "Инжиниринг"}


@dataclass
class Report:
    operations: dict[str, int]
    inbox: dict[str, dict[str, int]] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)
    parents: int = 0
    children: int = 0
    payments: int = 0
    fintablo_transactions: int = 0
    replies: int = 0
    duplicate_replies: int = 0
    interrupted_sends: int = 0
    kills: int = 0
    swept: int = 0
    delivery: dict[str, int] = field(default_factory=dict)
    injected: dict[str, dict[str, int]] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    secrets_in_logs: list[str] = field(default_factory=list)
    scheduler_handovers: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{k}: {v}" for k, v in vars(self).items() if k != "problems"]
        return "\n".join(lines + [f"problems: {len(self.problems)}"] + [f"  - {p}" for p in self.problems[:40]])


def all_deals(emu: Emulators) -> list[dict[str, Any]]:
    deals: list[dict[str, Any]] = []
    start: Any = 0
    while start is not None:
        reply, _ = invoke(emu.b24, "crm.deal.list", {"select": ["*", "UF_*"], "order": {"ID": "ASC"}}, start)
        deals.extend(reply.result)
        start = reply.next
    return deals


def children_by_parent(emu: Emulators) -> dict[int, dict[str, int]]:
    """parent id → {category id: child id}; a second child of one category shows up as a list."""
    found: dict[int, dict[str, Any]] = {}
    for deal in all_deals(emu):
        parent = link_id(deal.get("UF_CRM_PARENT_DEAL"))
        if parent.isdigit():
            slot = found.setdefault(int(parent), {})
            category = str(deal["CATEGORY_ID"])
            slot[category] = [slot[category], int(deal["ID"])] if category in slot else int(deal["ID"])
    return found


def stage_names(emu: Emulators) -> dict[str, str]:
    names: dict[str, str] = {}
    for entity in ("DEAL_STAGE", "DEAL_STAGE_1", "DEAL_STAGE_2"):
        reply, _ = invoke(emu.b24, "crm.status.list", {"filter": {"ENTITY_ID": entity}})
        names.update({row["STATUS_ID"]: row["NAME"] for row in reply.result})
    return names


def check_parents(emu: Emulators, done: Done, report: Report) -> None:
    deals = {int(d["ID"]): d for d in all_deals(emu)}
    children = children_by_parent(emu)
    names = stage_names(emu)
    for parent in done.plain:
        if children.get(parent):
            report.problems.append(f"deal {parent} never entered Evaluate but has children {children[parent]}")
    for parent in done.qualifying:
        report.parents += 1
        mine = children.get(parent, {})
        if sorted(mine) != ["1", "2"] or any(isinstance(v, list) for v in mine.values()):
            report.problems.append(f"parent {parent}: children by pipeline {mine}, expected one in 1 and one in 2")
            continue
        report.children += 2
        deal = deals[parent]
        linked = sorted(int(link_id(v)) for v in (deal.get("UF_CRM_CHILD_DEALS") or []) if link_id(v).isdigit())
        if linked != sorted(mine.values()):
            report.problems.append(f"parent {parent}: UF_CRM_CHILD_DEALS {linked} but children {sorted(mine.values())}")
        shown = {part.strip() for part in str(deal.get("UF_CRM_CHILD_STAGE") or "").split(";") if part.strip()}
        actual = {f"{DEPARTMENTS[c]}: {names.get(deals[child]['STAGE_ID'], deals[child]['STAGE_ID'])}" for c, child in mine.items()}
        if parent in done.approved:
            if deal["STAGE_ID"] != "UC_ESTIMATE_READY":
                report.problems.append(f"parent {parent}: Logistics is for approval but the parent is in {deal['STAGE_ID']}")
            if str(deal.get("UF_CRM_COST_PRICE")) != done.approved[parent]:
                report.problems.append(f"parent {parent}: cost {deal.get('UF_CRM_COST_PRICE')!r}, child reported {done.approved[parent]!r}")
            if shown != actual:
                report.problems.append(f"parent {parent}: shows child stages {sorted(shown)}, children are {sorted(actual)}")
        elif shown and shown != actual:
            report.problems.append(f"parent {parent}: shows child stages {sorted(shown)}, children are {sorted(actual)}")


def check_inbox(store: Store, report: Report) -> None:
    with store.session() as s:
        rows = s.execute(select(InboxEvent.source, InboxEvent.status, func.count()).group_by(InboxEvent.source, InboxEvent.status)).all()
        for source, status, count in rows:
            report.inbox.setdefault(source, {})[status] = int(count)
        waiting = [(e.id, e.source, e.status) for e in s.scalars(select(InboxEvent).where(InboxEvent.status.in_(["pending", "processing"])))]
        dead = s.execute(select(InboxEvent.id, InboxEvent.source, InboxEvent.kind, DeadLetter.reason)
                         .join(DeadLetter, DeadLetter.event_id == InboxEvent.id, isouter=True).where(InboxEvent.status == "dead")).all()
        report.swept = int(s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.idem_key.startswith("sweep:"))) or 0)
    if waiting:
        report.problems.append(f"{len(waiting)} event(s) neither processed nor dead-lettered: {waiting[:10]}")
    for event_id, source, kind, reason in dead:
        report.dead.append(f"{event_id} {source}/{kind}: {reason}")
        if not (reason or "").strip():
            report.problems.append(f"event {event_id} is dead without a reason")


def check_money(emu: Emulators, store: Store, done: Done, report: Report) -> None:
    with store.session() as s:
        operations = s.scalars(select(BankOperation)).all()
        links = {link.key: link.value for link in s.scalars(select(Link).where(Link.kind == "fintablo.transaction"))}
    report.payments = len(operations)
    made = sum(done.payments.values())
    if len(operations) != made:
        report.problems.append(f"{made} payments made in the banks, {len(operations)} bank operations stored")
    fintablo = emu.fintablo.server.app.extensions["fintablo"].store  # type: ignore[attr-defined]
    transactions = [t for t in fintablo.list("transaction", {"pageSize": "100000"}) if t["id"] not in SEEDED_TRANSACTIONS]
    report.fintablo_transactions = len(transactions)
    if len(transactions) != len(operations):
        report.problems.append(f"{len(operations)} bank operations but {len(transactions)} Fintablo transactions")
    missing = [op.op_key for op in operations if op.op_key not in links]
    if missing:
        report.problems.append(f"{len(missing)} operation(s) without a Fintablo transaction link: {missing[:5]}")
    if sorted(links.values()) != sorted(str(t["id"]) for t in transactions):
        report.problems.append("the relay's links and Fintablo's transactions are not one to one")
    partners = Counter(p.get("inn") for p in fintablo.list("partner", {}) if p.get("inn"))
    doubled = [inn for inn, n in partners.items() if n > 1]
    if doubled:
        report.problems.append(f"partners created twice for INN {doubled}")


def check_chats(emu: Emulators, store: Store, relay: Relay, done: Done, report: Report) -> None:
    """One reply per message; a second one only where a kill interrupted that very send."""
    interrupted = {event for kill in relay.kills for _, action, event in kill["started"] if action == "send_message"}
    report.interrupted_sends = len(interrupted)
    with store.session() as s:
        event_of = {}
        for event in s.scalars(select(InboxEvent).where(InboxEvent.source == "telegram")):
            message = event.payload.get("update", {}).get("message") or {}
            event_of[(message.get("chat", {}).get("id"), message.get("message_id"))] = event.id
    replies: Counter[tuple[int, int]] = Counter()
    for chat in {chat for chat, _ in done.messages}:
        for sent in emu.control("telegram", f"chats/{chat}/sent", method="GET"):
            if sent.get("reply_to_message_id"):
                replies[(chat, int(sent["reply_to_message_id"]))] += 1
    report.replies = sum(replies.values())
    for message in done.messages:
        count = replies.get(message, 0)
        if count == 0:
            report.problems.append(f"message {message} got no reply")
        elif count > 1:
            report.duplicate_replies += count - 1
            if event_of.get(message) not in interrupted:
                report.problems.append(f"message {message} got {count} replies, and no kill interrupted its send")


def grep_logs(logs: Path, secrets: list[str], report: Report) -> None:
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(logs.glob("*.log")))
    report.secrets_in_logs = [s[:4] + "…" for s in secrets if s and s in text]
    if report.secrets_in_logs:
        report.problems.append(f"secrets found in the relay's logs: {report.secrets_in_logs}")
    if '"level": "INFO"' not in text:
        report.problems.append("the relay's logs are missing or empty; the secret check would prove nothing")


def check_scheduler(relay: Relay, report: Report) -> None:
    """Periodic jobs ran in one process at a time: the Tochka poller's lines (one every few seconds)
    come from one worker until a kill hands the lead to another, never from two at once."""
    polls: list[tuple[datetime, int]] = []
    for n in range(len(relay.workers)):
        for line in (relay.logs / f"worker-{n}.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if '"relay.bank.tochka"' in line and "operation(s)" in line:
                polls.append((datetime.fromisoformat(json.loads(line)["ts"]), n))
    polls.sort()
    pairs = list(zip(polls, polls[1:]))
    report.scheduler_handovers = sum(1 for (_, a), (_, b) in pairs if a != b)
    close = [(t1.isoformat(), a, b) for (t1, a), (t2, b) in pairs if a != b and (t2 - t1).total_seconds() < 1.0]
    if close:
        report.problems.append(f"two workers ran the scheduler's jobs at once: {close[:3]}")
    if report.scheduler_handovers > len(relay.kills) + 1:
        report.problems.append(f"the scheduler moved between workers {report.scheduler_handovers} times with {len(relay.kills)} kills")

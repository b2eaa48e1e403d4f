"""One chaos run from start to verdict; the reduced test and `bench/chaos.py` differ only in size.

1. Emulators up, relay up (`web` + `worker`), the sweep's baseline set.
2. Faults on (every emulator), lossy Bitrix24 delivery (drop, duplicate, reorder), 429s.
3. First phase: deals created and moved to Evaluate (or only touched), chat messages, payments in
   two banks, all interleaved at a steady pace; the worker is SIGKILLed and restarted three times
   and the portal's bucket is squeezed once on the way.
4. Second phase, once the children exist: Logistics children go for approval with a cost.
5. Faults off, drain (every delivery made, a sweep after the last change, inbox quiet), verdict.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from relay.store import Store
from relay.store.schema import BankOperation, Cursor, InboxEvent
from tests.chaos import verify
from tests.chaos.knobs import chaos_off, chaos_on, injected, squeeze
from tests.chaos.load import Load, Plan
from tests.chaos.processes import Topology
from tests.chaos.world import FORCED_429, Emulators, Relay, configured_secrets, environment_ready, start_emulators, start_relay_processes

BOT_ID = 7000000001
Say = Callable[[str], None]
Actions = dict[int, list[Callable[[], None]]]


def wait(check: Callable[[], bool], seconds: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"chaos run: timed out waiting for {what}")
        time.sleep(every)


def sweep_ran_after(store: Store, moment: float) -> bool:
    with store.session() as s:
        cursor = s.get(Cursor, "bitrix24.sweep.deal")
    return cursor is not None and cursor.updated_at.timestamp() >= moment


def count(store: Store, table: type, *where: object) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def run_ops(ops: list[Callable[[], None]], seconds: float, at: Actions) -> None:
    """Run `ops` spread over `seconds`; what `at[i]` lists (kills, squeezes) happens just before operation i."""
    pace = seconds / max(1, len(ops))
    for index, op in enumerate(ops):
        for action in at.get(index, []):
            action()
        op()
        time.sleep(pace)


def killer(relay: Relay, index: int, say: Say) -> Callable[[], None]:
    def kill() -> None:
        found = relay.kill_worker()
        actions = ", ".join(sorted({action for _, action, _ in found["started"]})) or "-"
        say(f"killed the worker before operation {index}: {len(found['started'])} write(s) in flight ({actions})")
    return kill


def spread(n: int) -> list[float]:
    """`n` points between 15% and 65% of a phase: early enough that a killed scheduler leader's
    lease (10 s) runs out during the wait for the children, not during the final drain."""
    return [] if n <= 0 else [0.4] if n == 1 else [0.15 + 0.5 * k / (n - 1) for k in range(n)]


def load_phases(emu: Emulators, relay: Relay, load: Load, size: int, kills: int, say: Say, clock: Callable[[], str]) -> None:
    first = load.first_phase(Plan.of(size))
    at: Actions = {}
    for index in (int(len(first) * f) for f in spread(kills)):
        at.setdefault(index, []).append(killer(relay, index, say))
    say(f"{clock()} first phase: {len(first)} operations")
    run_ops(first, seconds=max(8.0, size / 24), at=at)
    say(f"{clock()} waiting for the children")
    # While the relay works off the backlog, the portal's bucket shrinks until it has refused a few
    # requests: real QUERY_LIMIT_EXCEEDED answers, which no budget sized for the normal bucket avoids.
    before = _rate_limited(emu)["bitrix24 QUERY_LIMIT_EXCEEDED"]
    squeeze(emu, True)
    deadline = time.monotonic() + 10
    while _rate_limited(emu)["bitrix24 QUERY_LIMIT_EXCEEDED"] < before + 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    squeeze(emu, False)
    wait(lambda: _children_ready(emu, load), 30 + size / 4, "every qualifying deal's children")
    second = load.second_phase(verify.children_by_parent(emu))
    say(f"{clock()} second phase: {len(second)} approvals")
    run_ops(second, seconds=max(2.0, size / 120), at={})


def drain(emu: Emulators, store: Store, load: Load, seconds: float) -> None:
    done = load.done
    wait(lambda: not emu.control("telegram", f"bots/{BOT_ID}/pending", method="GET"), seconds, "Telegram to deliver every update")
    wait(lambda: count(store, BankOperation) >= sum(done.payments.values()), seconds, "the bank statements to bring every payment")
    wait(lambda: sweep_ran_after(store, done.last_deal_change + 1.5), seconds, "a sweep after the last deal change")
    quiet = 0

    def settled() -> bool:
        nonlocal quiet
        emu.control("portal", "events/flush")
        quiet = quiet + 1 if count(store, InboxEvent, InboxEvent.status.in_(["pending", "processing"])) == 0 else 0
        return quiet >= 4

    wait(settled, seconds, "the inbox to settle", every=0.3)


def verdict(emu: Emulators, relay: Relay, store: Store, load: Load, limited: dict[str, int]) -> verify.Report:
    report = verify.Report(operations=dict(load.done.operations), kills=len(relay.kills), injected=injected(emu))
    report.delivery = _delivery_fates(emu)
    report.rate_limited = limited
    report.requests = {"bitrix24": int(emu.b24.counter.snapshot().get("total", 0)),
                       **{name: int(emu.control(name, "requests", method="GET")["total"]) for name in ("tochka", "tbank", "fintablo")}}
    verify.check_inbox(store, report)
    verify.check_parents(emu, load.done, report)
    verify.check_money(emu, store, load.done, report)
    verify.check_chats(emu, store, relay, load.done, report)
    relay.stop()  # every log line written before the grep
    verify.grep_logs(relay.logs, configured_secrets(relay), report)
    verify.check_scheduler(relay, report)
    return report


def run_chaos(db_url: str, workdir: Path, size: int = 220, fault_rate: float = 0.1, kills: int = 3,
              topology: Topology = Topology(), say: Say = lambda _: None) -> verify.Report:
    started = time.monotonic()

    def clock() -> str:
        return f"{time.monotonic() - started:6.1f}s"

    emu = start_emulators()
    relay: Relay | None = None
    try:
        relay = start_relay_processes(db_url, workdir, emu, topology)
        environment_ready(emu, relay)
        store = relay.store = Store(db_url)
        wait(lambda: sweep_ran_after(store, time.time() - 60), 60, "the first sweep to set its baseline")
        time.sleep(1.1)  # the baseline ends with the current second; changes must come after it
        chaos_on(emu, fault_rate)
        load = Load(emu)
        load_phases(emu, relay, load, size, kills, say, clock)
        limited = _rate_limited(emu)  # read before chaos_off resets the Fintablo knob
        chaos_off(emu)
        say(f"{clock()} drain")
        drain(emu, store, load, seconds=120 + size / 2)
        say(f"{clock()} verdict")
        report = verdict(emu, relay, store, load, limited)
        report.seconds = round(time.monotonic() - started, 1)
        return report
    finally:
        if relay is not None:
            relay.stop()
        emu.stop()


def _children_ready(emu: Emulators, load: Load) -> bool:
    emu.control("portal", "events/flush")
    children = verify.children_by_parent(emu)
    return all(sorted(children.get(parent, {})) == ["1", "2"] for parent in load.done.qualifying)


def _delivery_fates(emu: Emulators) -> dict[str, int]:
    fates: dict[str, int] = {}
    for row in emu.control("portal", "events/log", method="GET")["events"]:
        fate = "duplicate" if row.get("duplicate") else str(row.get("fate"))
        fates[fate] = fates.get(fate, 0) + 1
    return fates


def _rate_limited(emu: Emulators) -> dict[str, int]:
    """429-like answers each outside system gave: the portal's bucket, Telegram's and Fintablo's 429s."""
    stats = emu.control("telegram", "stats", method="GET")
    return {"bitrix24 QUERY_LIMIT_EXCEEDED": int(emu.b24.counter.snapshot().get("rejected", {}).get("QUERY_LIMIT_EXCEEDED", 0)),
            "telegram 429": int(stats.get("too_many_requests_total", 0)),
            "fintablo 429": FORCED_429 - int(emu.control("fintablo", "knobs", method="GET").get("force_429", 0))}

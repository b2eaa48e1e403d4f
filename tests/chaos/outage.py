"""A Bitrix24 outage, for real: the emulated portal stops listening while events wait in the inbox,
then comes back on the same port. Shared by the suite's short outage and `bench/outage.py`'s long one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from emulators.common.server import serve_in_thread
from relay.store.schema import InboxEvent, TraceStep
from tests.support.bitrix24 import LinkedDeals


@dataclass
class Outage:
    parents: list[int]
    waited_during_outage: int  # events still pending when the portal came back
    dead_during_outage: int
    tries_during_outage: int  # "waiting" trace steps: tries that found the portal down
    most_attempts_counted: int  # highest attempt count of any event when the portal came back
    drain_seconds: float  # from the portal's return to an empty queue


def new_parents(world: LinkedDeals, count: int) -> list[int]:
    """Sales deals created straight into "Оценить": each must get one Logistics and one Engineering child."""
    return [int(world.bitrix().call("crm.deal.add", {"fields": {
        "TITLE": f"Поставка {n}", "CATEGORY_ID": 0, "STAGE_ID": "UC_EVALUATE", "COMPANY_ID": 2, "OPPORTUNITY": 1000 * n}}))
        for n in range(1, count + 1)]


def pending(world: LinkedDeals) -> int:
    return world.runtime.inbox.depth().get("pending", 0)


def outage(world: LinkedDeals, parents: int, seconds: float, drain_timeout: float = 120) -> Outage:
    """`world` is started without its worker: the parents' events reach the inbox, then the portal
    goes down, the worker starts, and `seconds` later the portal is back."""
    ids = new_parents(world, parents)
    deadline = time.monotonic() + 30
    while pending(world) < parents and time.monotonic() < deadline:
        world.control("events/flush")
        time.sleep(0.05)
    assert pending(world) >= parents, world.runtime.inbox.depth()
    app, port = world.portal.server.app, world.portal.port
    world.portal.stop()
    world.worker.start()
    time.sleep(seconds)
    depth = world.runtime.inbox.depth()
    with world.runtime.store.session() as s:
        tries = s.scalar(select(func.count()).select_from(TraceStep).where(TraceStep.step == "waiting")) or 0
        attempts = s.scalar(select(func.max(InboxEvent.attempts))) or 0
    world.portal = serve_in_thread(app, port=port)
    back = time.monotonic()
    world.settle(drain_timeout)
    return Outage(ids, depth.get("pending", 0) + depth.get("processing", 0), depth.get("dead", 0), tries, attempts,
                  time.monotonic() - back)

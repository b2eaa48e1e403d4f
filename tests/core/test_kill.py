"""SIGKILL the relay while its handler is writing; after a restart the write exists exactly once."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from sqlalchemy import select

from emulators.common.server import RunningServer, serve_in_thread
from relay.store import Store
from relay.store.schema import Effect, InboxEvent
from relay.trace import Tracer
from tests.support.process import free_port, start_relay, wait_for, wait_healthy
from tests.support.relay import base_config, signed
from tests.support.target import create_target

RULES = """\
rules:
  - id: forward
    when: {source: shop, kind: order.paid}
    do:
      - http_post:
          url: "{{ payload.target }}/records"
          json: {order: "{{ payload.order }}"}
          lookup_url: "{{ payload.target }}/records/{{ effect_key }}"
"""


@pytest.fixture
def target() -> Iterator[RunningServer]:
    server = serve_in_thread(create_target())
    yield server
    server.stop()


def test_sigkill_mid_write_then_restart_effect_exactly_once(db_url: str, write_config: Callable[..., Path], target: RunningServer) -> None:
    port = free_port()
    config = write_config(base_config(db_url).replace("web:\n  port: 0", f"web:\n  port: {port}"), **{"rules__main.yaml": RULES})
    url = f"http://127.0.0.1:{port}"
    state = target.server.app.extensions["target"]  # type: ignore[attr-defined]
    state["hold_seconds"] = 60  # the write lands, the answer never comes before the kill

    relay = start_relay(config)
    try:
        wait_healthy(url, relay)
        body, headers = signed({"type": "order.paid", "entity": "o-77", "id": "evt-77", "order": "o-77", "target": target.url})
        assert requests.post(f"{url}/hooks/shop", data=body, headers=headers, timeout=10).json() == {"accepted": 1, "duplicates": 0}
        wait_for(lambda: len(state["posts"]) == 1, what="the handler to be mid-write")
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=10)
    finally:
        if relay.poll() is None:
            relay.kill()

    store = Store(db_url)
    with store.session() as s:
        assert s.scalars(select(InboxEvent.status)).all() == ["processing"]
        assert s.scalars(select(Effect.status)).all() == ["started"]

    state["hold_seconds"] = 0
    relay = start_relay(config)
    try:
        wait_healthy(url, relay)
        # The same delivery again (the sender never saw our 200? it did; but senders do repeat).
        requests.post(f"{url}/hooks/shop", data=body, headers=headers, timeout=10)

        def done() -> bool:
            with store.session() as s:
                return s.scalars(select(InboxEvent.status)).all() == ["done"]
        wait_for(done, seconds=30, what="the event to be processed after the restart")
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=20)

    assert len(state["posts"]) == 1, state["posts"]
    with store.session() as s:
        event = s.scalars(select(InboxEvent)).one()
        effect = s.scalars(select(Effect)).one()
    assert event.attempts == 2
    assert (effect.status, effect.external_id, effect.tries) == ("done", "1", 2)
    steps = [(t.step, t.message) for t in Tracer(store).steps(event.id)]
    assert any(step == "recovered" for step, _ in steps)
    assert any(step == "effect.found" for step, _ in steps)
    store.dispose()

"""Pacing against the emulator's flood control: no 429 provoked, a 429 given is waited out once.

The emulator's limits are scaled down (the same shape, seconds instead of minutes) and the relay's
pacing is set to the same numbers, so the test takes seconds; the real numbers run in
bench/telegram_pacing.py.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from connectors.telegram.pacing import Pacer, TooLong
from connectors.telegram.settings import PacingSettings
from emulators.common.server import serve_in_thread
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.connectors.test_telegram_helpers import (ANNA, CLIENT_SG, RULES, Emu, Relay, _emulator, emu, relay, stop,
                                                    telegram_config, wait_for)
from tests.support.relay import make_runtime

__all__ = ["_emulator", "emu", "relay"]
# PTB 22 warns about RetryAfter.retry_after's future type while building the exception itself.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SCALED = """\
      overall: {count: 30, seconds: 1}
      per_group: {count: 5, seconds: 1}
"""


@pytest.fixture
def paced(db_url: str, write_config: Callable[..., Path], emu: Emu) -> Iterator[Relay]:
    emu.post("limits", per_group={"count": 5, "seconds": 1}, per_chat={"count": 3, "seconds": 0.3})
    runtime = make_runtime(write_config(telegram_config(db_url, emu.url, SCALED, per_chat="{count: 3, seconds: 0.3}"),
                                        **{"rules__main.yaml": RULES}))
    server = serve_in_thread(create_relay_app(runtime))
    yield Relay(runtime, server, emu)
    stop(server)
    runtime.close()


def test_sixty_messages_to_three_groups_without_a_429(paced: Relay, emu: Emu) -> None:
    groups = [emu.post("chats", type="supergroup", title=f"Клиент {i}", members=[ANNA])["id"] for i in range(3)]
    for n in range(60):
        # distinct entities: the worker's threads send into one group at the same time
        paced.shop(type="direct", entity=f"m{n}", id=f"m{n}", chat=str(groups[n % 3]), text=f"#{n}")
    worker = Worker(paced.runtime)
    worker.start()
    try:
        wait_for(lambda: paced.runtime.inbox.depth() == {"done": 60}, timeout=45)
    finally:
        worker.stop()
    assert emu.get("stats")["too_many_requests_total"] == 0
    for i, chat in enumerate(groups):
        assert sorted(emu.texts(chat), key=lambda t: int(t[1:])) == [f"#{n}" for n in range(i, 60, 3)]


def test_a_429_is_waited_out_and_the_message_sent_once(relay: Relay, emu: Emu) -> None:
    emu.post("scenarios", method="sendMessage", chat_id=CLIENT_SG, retry_after=1, times=1)
    relay.shop(type="direct", entity="r1", id="r1", chat=str(CLIENT_SG), text="после паузы")
    Worker(relay.runtime).run_once()
    assert emu.texts(CLIENT_SG) == ["после паузы"]
    calls = [c for c in emu.get("calls", method="sendMessage") if c["params"].get("chat_id") in (CLIENT_SG, str(CLIENT_SG))]
    assert [c["ok"] for c in calls] == [False, True]
    assert emu.get("stats")["too_many_requests_total"] == 1
    assert any("429" in m for m in relay.steps("telegram.429"))
    assert relay.runtime.inbox.depth() == {"done": 1}


def test_a_long_retry_after_goes_back_to_the_worker(relay: Relay, emu: Emu) -> None:
    """Waiting minutes inside a worker thread would stall it; the event is retried after retry_after."""
    relay.runtime.connector("telegram").clients["main"].pacer.settings.max_wait_seconds = 0.2
    emu.post("scenarios", method="sendMessage", chat_id=CLIENT_SG, retry_after=1, times=1)
    relay.shop(type="direct", entity="r2", id="r2", chat=str(CLIENT_SG), text="позже")
    worker = Worker(relay.runtime)
    worker.run_once()
    assert emu.texts(CLIENT_SG) == [] and any("next try in 1.0s" in m for m in relay.steps("retry"))
    wait_for(lambda: worker.run_once() >= 0 and relay.runtime.inbox.depth() == {"done": 1}, timeout=10)
    assert emu.texts(CLIENT_SG) == ["позже"]


def test_pacer_windows() -> None:
    """The pacer alone: a window fills, waits until its oldest send ages out, in-flight sends count."""
    async def main() -> None:
        pacer = Pacer(PacingSettings.model_validate({"overall": {"count": 2, "seconds": 0.2}, "per_group": {"count": 100, "seconds": 1},
                                                     "per_chat": {"count": 100, "seconds": 1}, "margin_seconds": 0}))
        a = await pacer.acquire(1)
        b = await pacer.acquire(2)
        waiting = asyncio.ensure_future(pacer.acquire(3))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # two in flight fill the window
        started = time.monotonic()
        await pacer.release(a)
        await pacer.release(b)
        c = await waiting
        assert time.monotonic() - started >= 0.19
        await pacer.release(c)
        await pacer.release(await pacer.acquire(4))
        pacer.settings.max_wait_seconds = 0.01
        with pytest.raises(TooLong):  # c and d fill the window for another 0.2 s
            await pacer.acquire(5)
    asyncio.run(main())

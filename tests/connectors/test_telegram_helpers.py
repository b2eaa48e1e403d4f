"""Fixtures for the Telegram connector tests: the emulator, a relay (store, web app, worker) wired to it.

Everything crosses real HTTP: the emulator POSTs updates to the relay's /hooks/telegram/main, the
relay's python-telegram-bot calls the emulator's Bot API. The emulator's clock is real time here,
because the relay's pacing runs on real time and the two must agree on what a window is.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from emulators.common.server import RunningServer, serve_in_thread
from emulators.telegram import Clock
from relay.runtime import Runtime
from relay.store.schema import TraceStep
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.emulators import test_telegram_helpers as emulator
from tests.emulators.test_telegram_helpers import (ANNA, BOT_ID, CLIENT_GROUP, CLIENT_SG, DMITRY, IGOR,  # noqa: F401
                                                   OLGA, SERGEY, STAFF, TOKEN, serve_emulator)
from tests.support.relay import base_config, make_runtime, signed

SECRET = "relay-tg-secret_0123456789"
# STAFF is the staff chat here; CLIENT_GROUP is the basic group a test may upgrade.

RULES = """\
rules:
  - id: reply
    when: {source: telegram, kind: message.new}
    do:
      - send_message: {text: "Принято: {{ message.text | e }}", reply: true}
  - id: task-card
    when: {source: telegram, kind: command.task}
    do:
      - send_message:
          text: "<b>Задача</b>: {{ command.args | e }}"
          buttons: [[{text: "✅ Готово", data: "done:{{ message.id }}"}]]
  - id: task-done
    when: {source: telegram, kind: callback.pressed, if: "callback.data.startswith('done:')"}
    do:
      - answer_callback: {text: "Отмечено"}
      - send_message: {text: "Задача закрыта: {{ callback.from.name | e }}"}
      - edit_message: {}
  - id: bind
    when: {source: telegram, kind: command.bind}
    do:
      - bind_chat: {entity: "shop:order:{{ command.args }}"}
  - id: files
    when: {source: telegram, kind: command.files}
    do:
      - send_message: {text: "{{ message.author.name }} @{{ message.author.username }}: {{ command.argv | join(',') }}"}
  - id: to-bound-chat
    when: {source: shop, kind: notify}
    do:
      - send_message: {text: "{{ payload.text }}"}
  - id: to-chat
    when: {source: shop, kind: direct}
    do:
      - send_message: {chat: "{{ payload.chat }}", text: "{{ payload.text }}"}
  - id: removed-hook
    when: {source: telegram, kind: bot.removed}
    do:
      - note: {text: "bot left {{ chat.id }} ({{ member.reason or member.status }})"}
"""

# The relay answers over real HTTP and a worker thread, so allow it longer than the emulator tests do.
wait_for = partial(emulator.wait_for, timeout=10.0, interval=0.02)


class Emu(emulator.Emu):
    """The emulator suite's control client, plus what the connector tests check on the relay's side."""

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent(chat_id)]

    def set_webhook(self, url: str, secret: str = SECRET) -> None:
        async def main() -> bool:
            bot = self.bot()
            async with bot:
                return await bot.set_webhook(url, secret_token=secret)
        assert asyncio.run(main())

    def delivered(self) -> bool:
        """Every update so far has left the queue (the relay answered)."""
        return self.pending() == []


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[Flask, RunningServer]]:
    with serve_emulator(Clock()) as running:  # real time: the relay's pacing runs on it too
        yield running


@pytest.fixture
def emu(_emulator: tuple[Flask, RunningServer]) -> Iterator[Emu]:
    with emulator.emu_session(_emulator, Emu) as session:
        yield session


@dataclass
class Relay:
    runtime: Runtime
    server: RunningServer
    emu: Emu
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def hook(self) -> str:
        return f"{self.server.url}/hooks/telegram/main"

    def work(self) -> int:
        """Wait until the emulator has delivered everything, then process what is queued."""
        wait_for(self.emu.delivered)
        return Worker(self.runtime).run_once()

    def shop(self, **payload: Any) -> None:
        body, headers = signed(payload)
        resp = self.http.post(f"{self.server.url}/hooks/shop", data=body, headers=headers)
        assert resp.status_code == 200, resp.text

    def steps(self, *kinds: str) -> list[str]:
        """Every trace message of the given steps, across all events."""
        with self.runtime.store.session() as s:
            rows = s.scalars(select(TraceStep).where(TraceStep.step.in_(kinds)).order_by(TraceStep.id))
            return [r.message for r in rows]


def telegram_config(db_url: str, emu_url: str, pacing: str = "", per_chat: str = "{count: 3, seconds: 3}") -> str:
    return "mode: sandbox\n" + base_config(db_url, f"""\
connectors:
  telegram:
    bots:
      main:
        token: "{TOKEN}"
        secret_token: "{SECRET}"
        api_url: "{emu_url}"
        staff_chat_id: {STAFF}
    pacing:
      per_chat: {per_chat}
{pacing}""")


@pytest.fixture
def relay(db_url: str, write_config: Callable[..., Path], emu: Emu) -> Iterator[Relay]:
    runtime = make_runtime(write_config(telegram_config(db_url, emu.url), **{"rules__main.yaml": RULES}))
    server = serve_in_thread(create_relay_app(runtime))
    emu.set_webhook(f"{server.url}/hooks/telegram/main")
    yield Relay(runtime, server, emu)
    stop(server)
    runtime.close()


def stop(server: RunningServer) -> None:
    """Stop without waiting out werkzeug's 0.5 s shutdown poll (the test is over; nothing is in flight)."""
    threading.Thread(target=server.stop, daemon=True).start()

"""Fixtures for the Telegram connector tests: the emulator, a relay (store, web app, worker) wired to it.

Everything crosses real HTTP: the emulator POSTs updates to the relay's /hooks/telegram/main, the
relay's python-telegram-bot calls the emulator's Bot API. The emulator's clock is real time here,
because the relay's pacing runs on real time and the two must agree on what a window is.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest
import requests
import telegram
from flask import Flask
from sqlalchemy import select

from emulators.common.server import RunningServer, serve_in_thread
from emulators.telegram import Clock, TelegramState, create_app
from emulators.telegram.seed import DEMO_SEED
from relay.runtime import Runtime
from relay.store.schema import TraceStep
from relay.web.app import create_app as create_relay_app
from relay.worker import Worker
from tests.support.relay import base_config, make_runtime, signed

TOKEN = "7000000001:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs"
BOT_ID = 7000000001
SECRET = "relay-tg-secret_0123456789"
STAFF = -1001000000001        # supergroup, bot is administrator; staff chat
CLIENT_SG = -1001000000002    # supergroup, bot is member
CLIENT_GROUP = -4000000003    # basic group, bot is member (can be upgraded)
ANNA, DMITRY, OLGA, IGOR, SERGEY = 100000001, 100000002, 200000001, 200000002, 300000001

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

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@dataclass
class Emu:
    server: RunningServer
    state: TelegramState
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, **params: Any) -> Any:
        resp = self.http.get(f"{self.url}/_emulator/{path}", params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, path: str, **body: Any) -> Any:
        resp = self.http.post(f"{self.url}/_emulator/{path}", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def say(self, chat_id: int, user: int, text: str, **extra: Any) -> dict[str, Any]:
        return self.post(f"chats/{chat_id}/messages", **{"from": user, "text": text, **extra})

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        return self.get(f"chats/{chat_id}/sent")

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent(chat_id)]

    def set_webhook(self, url: str, secret: str = SECRET) -> None:
        async def main() -> bool:
            bot = telegram.Bot(TOKEN, base_url=f"{self.url}/bot", base_file_url=f"{self.url}/file/bot")
            async with bot:
                return await bot.set_webhook(url, secret_token=secret)
        assert asyncio.run(main())

    def delivered(self) -> bool:
        """Every update so far has left the queue (the relay answered)."""
        return self.get(f"bots/{BOT_ID}/pending") == []


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[Flask, RunningServer]]:
    app = create_app(seed=DEMO_SEED, clock=Clock())
    with serve_in_thread(app) as server:
        yield app, server
    app.extensions["telegram"].close()


@pytest.fixture
def emu(_emulator: tuple[Flask, RunningServer]) -> Iterator[Emu]:
    app, server = _emulator
    state: TelegramState = app.extensions["telegram"]
    state.reset()
    session = Emu(server=server, state=state)
    yield session
    session.http.close()
    state.close()


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
    return base_config(db_url, f"""\
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

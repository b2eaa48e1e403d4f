"""Shared fixtures for the Telegram emulator tests: a live emulator, a webhook receiver, PTB bots.

Everything runs over real HTTP on 127.0.0.1. The emulator's clock is frozen, so rate windows and
callback expiry are moved by `emu.advance(seconds)` instead of sleeping. The connector tests reuse
the demo-seed ids, `Emu`, `wait_for` and `serve_emulator` from here, so both suites drive one seed one way.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest
import requests
import telegram
from flask import Flask, Response, request

from emulators.common.faults import FaultSettings
from emulators.common.server import RunningServer, serve_in_thread
from emulators.telegram import Clock, TelegramState, create_app
from emulators.telegram.seed import DEMO_SEED

TOKEN = "7000000001:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-bs"
BOT_ID = 7000000001
STAFF = -1001000000001        # supergroup, bot is administrator
CLIENT_SG = -1001000000002    # supergroup, bot is member
CLIENT_GROUP = -4000000003    # basic group, bot is member
ANNA, DMITRY, OLGA, IGOR, SERGEY = 100000001, 100000002, 200000001, 200000002, 300000001

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
    """Poll until `predicate()` is truthy (webhook delivery happens on another thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


@dataclass
class Emu:
    """A running emulator plus shortcuts for its /_emulator control endpoints."""

    server: RunningServer
    state: TelegramState
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def clock(self) -> Clock:
        return self.state.clock

    def bot(self, token: str = TOKEN) -> telegram.Bot:
        # PTB appends the token to base_url and puts file paths after base_file_url.
        return telegram.Bot(token, base_url=f"{self.url}/bot", base_file_url=f"{self.url}/file/bot")

    def api(self, method: str, token: str = TOKEN, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.url}/bot{token}/{method}", **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        resp = self.http.get(f"{self.url}/_emulator/{path}", params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, path: str, expect: int = 200, **body: Any) -> Any:
        resp = self.http.post(f"{self.url}/_emulator/{path}", json=body)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def say(self, chat_id: int, user: int, text: str, **extra: Any) -> dict[str, Any]:
        return self.post(f"chats/{chat_id}/messages", **{"from": user, "text": text, **extra})

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        return self.get(f"chats/{chat_id}/sent")

    def pending(self) -> list[dict[str, Any]]:
        return self.get(f"bots/{BOT_ID}/pending")

    def advance(self, seconds: float) -> None:
        self.post("clock", advance=seconds)


START = 1_714_557_840.0


@contextmanager
def serve_emulator(clock: Clock) -> Iterator[tuple[Flask, RunningServer]]:
    """The demo-seed emulator on a real port, closed (webhook threads included) afterwards."""
    app = create_app(seed=DEMO_SEED, clock=clock)
    with serve_in_thread(app) as server:
        yield app, server
    app.extensions["telegram"].close()


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[Flask, RunningServer]]:
    with serve_emulator(Clock(start=START)) as running:
        yield running


EmuT = TypeVar("EmuT", bound=Emu)


@contextmanager
def emu_session(running: tuple[Flask, RunningServer], client: type[EmuT]) -> Iterator[EmuT]:
    """A control client on a module's emulator, reset to the demo seed; its HTTP session and the
    emulator's delivery threads are closed afterwards, so the next test starts quiet."""
    app, server = running
    state: TelegramState = app.extensions["telegram"]
    state.reset()
    session = client(server=server, state=state)
    yield session
    session.http.close()
    state.close()


@pytest.fixture
def emu(_emulator: tuple[Flask, RunningServer]) -> Iterator[Emu]:
    """The module's emulator, back at the demo seed with a frozen clock and no faults."""
    with emu_session(_emulator, Emu) as session:
        session.clock.freeze(START)
        _emulator[0].extensions["telegram_faults"].configure(FaultSettings())
        yield session


class Receiver:
    """A stand-in for the relay's webhook endpoint: records deliveries, answers from a script."""

    def __init__(self) -> None:
        self.hits: list[dict[str, Any]] = []
        self.script: list[int] = []          # statuses for the next deliveries; then 200
        self.reply: dict[str, Any] | None = None
        self._lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/tg/webhook")
        def hook() -> Response:
            with self._lock:
                status = self.script.pop(0) if self.script else 200
                self.hits.append({"status": status, "headers": dict(request.headers),
                                  "json": request.get_json(force=True)})
                reply = self.reply if status == 200 else None
            if reply is not None:
                return Response(json.dumps(reply), status=200, content_type="application/json")
            return Response("ok" if status == 200 else "boom", status=status)

        self.app = app

    def delivered(self) -> list[dict[str, Any]]:
        with self._lock:
            return [h for h in self.hits if h["status"] == 200]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with serve_in_thread(rec.app) as server:
        yield rec, f"{server.url}/tg/webhook"

"""Shared fixtures for the Telegram emulator tests: a live emulator, a webhook receiver, PTB bots.

Everything runs over real HTTP on 127.0.0.1. The emulator's clock is frozen, so rate windows and
callback expiry are moved by `emu.advance(seconds)` instead of sleeping.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
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


def wait_for(predicate: Callable[[], T], timeout: float = 5.0) -> T:
    """Poll until `predicate()` is truthy (webhook delivery happens on another thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@dataclass
class Emu:
    """A running emulator plus shortcuts for its /_emulator control endpoints."""

    server: RunningServer
    state: TelegramState
    clock: Clock
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.server.url

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


@pytest.fixture(scope="module")
def _emulator() -> Iterator[tuple[Flask, RunningServer]]:
    app = create_app(seed=DEMO_SEED, clock=Clock(start=START))
    with serve_in_thread(app) as server:
        yield app, server
    app.extensions["telegram"].close()


@pytest.fixture
def emu(_emulator: tuple[Flask, RunningServer]) -> Iterator[Emu]:
    """The module's emulator, back at the demo seed with a frozen clock and no faults."""
    app, server = _emulator
    state: TelegramState = app.extensions["telegram"]
    state.reset()
    state.clock.freeze(START)
    app.extensions["telegram_faults"].configure(FaultSettings())
    session = Emu(server=server, state=state, clock=state.clock)
    yield session
    session.http.close()
    state.close()


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

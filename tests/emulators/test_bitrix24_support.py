"""Shared fixtures and helpers for the Bitrix24 emulator tests (imported by the other test modules).

The emulator runs on a real loopback port through `serve_in_thread`, so requests go through the
same HTTP path a client (fast-bitrix24, requests, curl) would use.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest
import requests
from flask import Flask, request

from emulators.bitrix24 import DEMO_SEED, create_app
from emulators.bitrix24.seed import load_seed
from emulators.bitrix24.events import DeliverySettings
from emulators.bitrix24.limits import LimitSettings
from emulators.bitrix24.portal import Portal, PortalConfig
from emulators.common.clock import ManualClock
from emulators.common.faults import FaultSettings
from emulators.common.server import RunningServer, serve_in_thread


class FakeClock(ManualClock):
    """The common hand-moved clock, callable because the Bitrix24 emulator takes its clock as a function."""

    def __init__(self, start: float = 1_766_047_124.0) -> None:
        super().__init__(start)

    def __call__(self) -> float:
        return self.now()


@dataclass
class Emu:
    """A running emulator plus a tiny REST client for it."""

    server: RunningServer
    app: Flask
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def portal(self) -> Portal:
        return self.app.extensions["bitrix24"]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def webhook(self) -> str:
        cfg = self.portal.config
        return f"{self.url}/rest/{cfg.webhook_user_id}/{cfg.webhook_code}/"

    def post(self, method: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.webhook + method, json=json, timeout=10, **kw)

    def call(self, method: str, params: dict[str, Any] | None = None, status: int = 200) -> Any:
        """POST JSON, assert the status, return the decoded body."""
        response = self.post(method, json=params or {})
        assert response.status_code == status, response.text
        return response.json()

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.call(method, params)["result"]

    def close(self) -> None:
        """Stop without waiting for werkzeug's 0.5 s shutdown poll (keeps the suite fast)."""
        self.portal.events.stop()
        threading.Thread(target=self.server.stop, daemon=True).start()

    def control(self, verb: str, path: str, json: Any = None) -> Any:
        response = self.session.request(verb, f"{self.url}/_emulator/{path}", json=json, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def start_emu(seed: Any = None, **kw: Any) -> Emu:
    kw.setdefault("rate_limit", False)
    app = create_app(seed, **kw)
    return Emu(serve_in_thread(app), app)


@pytest.fixture(scope="module")
def emu_server() -> Iterator[Emu]:
    """One emulator per test module; `emu` resets it before every test."""
    e = start_emu()
    yield e
    e.close()


@pytest.fixture
def emu(emu_server: Emu) -> Emu:
    """An empty portal (base pipeline and dictionaries only), rate limit off, default knobs."""
    portal = emu_server.portal
    portal.config = PortalConfig()
    portal.limits.configure(LimitSettings(rate_limit=False))
    portal.configure_delivery(DeliverySettings())
    portal.faults.configure(FaultSettings())
    portal.reset()
    return emu_server


@pytest.fixture(scope="module")
def demo_server() -> Iterator[Emu]:
    e = start_emu(DEMO_SEED)
    yield e
    e.close()


@pytest.fixture
def demo(demo_server: Emu) -> Emu:
    """The demo portal (seeds/demo.yaml), freshly re-seeded, rate limit off."""
    portal = demo_server.portal
    portal.config = PortalConfig(**load_seed(DEMO_SEED)["portal"])
    portal.limits.configure(LimitSettings(rate_limit=False))
    portal.configure_delivery(DeliverySettings())
    portal.reset()
    return demo_server


@dataclass
class Receiver:
    """A small HTTP server that records what it receives, for outgoing-event tests."""

    server: RunningServer
    hits: list[dict[str, Any]]
    status: list[int]
    on_hit: list[Any]

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.hits) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.hits)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hits: list[dict[str, Any]] = []
    status = [200]
    on_hit: list[Any] = []
    app = Flask("receiver")

    @app.post("/hook")
    def hook() -> tuple[str, int]:
        entry = {"body": request.get_data(as_text=True), "content_type": request.content_type,
                 "user_agent": request.headers.get("User-Agent"), "form": request.form.to_dict()}
        hits.append(entry)
        for callback in on_hit:
            callback(entry)
        return "ok", status[0]

    server = serve_in_thread(app)
    yield Receiver(server, hits, status, on_hit)
    threading.Thread(target=server.stop, daemon=True).start()


__all__ = ["Emu", "FakeClock", "Receiver", "demo", "demo_server", "emu", "emu_server", "receiver",
           "start_emu"]

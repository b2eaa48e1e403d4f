"""Shared fixtures for the Planfix emulator tests: a served emulator on a manual clock, a hook receiver.

Other test_planfix_* modules import these fixtures; this module holds no tests of its own.
"""
from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable, Iterator

import pytest
import requests
from flask import Flask, jsonify, request

from emulators.common.server import RunningServer, serve_in_thread
from emulators.planfix import DEFAULT_TOKEN, ManualClock, create_app
from emulators.planfix.seed import load_seed_file

READONLY_TOKEN = "0badc0ffee0badc0ffee0badc0ffee00"
START = 1_714_557_600.0  # 2024-05-01 10:00 UTC
_DEMO = load_seed_file(None)


def demo_seed(**changes: Any) -> dict[str, Any]:
    """The bundled demo account without its scenario rules (tests add the ones they need)."""
    seed = copy.deepcopy(_DEMO)
    seed["scenarios"] = []
    seed.update(changes)
    return seed


class Planfix:
    """A running emulator plus small helpers that keep the tests readable."""

    def __init__(self, server: RunningServer, app: Flask, clock: ManualClock) -> None:
        self.server, self.app, self.clock = server, app, clock
        self.url = server.url
        self.rest = server.url + "/rest"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"

    @property
    def state(self) -> Any:
        return self.app.extensions["planfix"]

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(self.rest + path, params=params or None)

    def post(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.http.post(self.rest + path, json=body if body is not None else {}, params=params or None)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = requests.request(method, self.url + "/_emulator" + path, json=body)
        assert answer.status_code < 500, answer.text
        return answer.json()

    def task(self, task_id: int, fields: str) -> dict[str, Any]:
        answer = self.get(f"/task/{task_id}", fields=fields)
        assert answer.status_code == 200, answer.text
        return answer.json()["task"]

    def create_task(self, **body: Any) -> int:
        answer = self.post("/task/", body)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def deliveries(self) -> list[dict[str, Any]]:
        return self.control("GET", "/deliveries")["deliveries"]

    def wait_for(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0) -> list[dict[str, Any]]:
        """Poll the delivery log until `check` holds (the sender is a background thread)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.deliveries()
            if check(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.01)

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock", {"advance": seconds})

    def fresh(self) -> "Planfix":
        """Back to the seeded account at the start time: cheaper than a new server per test."""
        self.clock.set(START)
        self.control("POST", "/faults", {})
        self.control("POST", "/ratelimit", {"enabled": False})
        self.control("POST", "/reset")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"
        return self


def start(seed: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Planfix, Callable[[], None]]:
    clock = ManualClock(START)
    app = create_app(seed if seed is not None else demo_seed(), clock=clock, **kwargs)
    server = serve_in_thread(app)

    def stop() -> None:
        server.stop()
        app.extensions["planfix"].close()

    return Planfix(server, app, clock), stop


@pytest.fixture(scope="module")
def pf_server() -> Iterator[Planfix]:
    """One emulator per test module (stopping a server costs half a second); `pf` resets it per test."""
    emulator, stop = start()
    try:
        yield emulator
    finally:
        stop()


@pytest.fixture
def pf(pf_server: Planfix) -> Planfix:
    return pf_server.fresh()


class Receiver:
    """The relay's hook endpoint, played by a tiny Flask app: scripted statuses, a gate, a log."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.gate: threading.Event | None = None
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        app = Flask("hook-receiver")

        @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
        def hook(path: str) -> Any:
            with self._lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                self.calls.append({"path": "/" + path, "method": request.method, "args": dict(request.args),
                                   "headers": dict(request.headers), "body": request.get_data(as_text=True)})
                status = self.statuses.pop(0) if self.statuses else 200
                gate = self.gate
            if gate is not None:
                gate.wait(timeout=5)
            with self._lock:
                self.active -= 1
            return jsonify({"ok": status == 200}), status

        self.server = serve_in_thread(app)
        self.url = self.server.url

    def fresh(self) -> "Receiver":
        with self._lock:
            if self.gate is not None:
                self.gate.set()
            self.calls, self.statuses, self.gate = [], [], None
            self.max_active = self.active
        return self


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    hook = Receiver()
    try:
        yield hook
    finally:
        hook.fresh()
        hook.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Iterator[Receiver]:
    yield receiver_server.fresh()
    receiver_server.fresh()

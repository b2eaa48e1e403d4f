"""Request budget: the 1 request/second switch, the daily quota, the header, the request counter."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from emulators.planfix import DEFAULT_TOKEN
from tests.emulators.test_planfix_fixtures import Planfix, pf, pf_server  # noqa: F401


def test_one_request_per_second_when_switched_on(pf: Planfix) -> None:
    assert pf.control("POST", "/ratelimit", {"enabled": True})["enabled"] is True
    assert pf.get("/ping").status_code == 200
    pf.advance(0.4)
    refused = pf.get("/task/1001")
    assert refused.status_code == 403
    assert refused.json() == {"result": "fail", "code": 22, "error": "Request limit exceeded", "timeToReset": 600}
    pf.advance(0.6)
    assert pf.get("/task/1001").status_code == 200  # refused requests do not count
    assert pf.control("GET", "/state")["tasks"]  # control endpoints are never limited
    assert pf.control("GET", "/requests")["by_route"]["GET /rest/task/<raw_id>"] == 2
    pf.control("POST", "/ratelimit", {"enabled": False})
    assert [pf.get("/ping").status_code for _ in range(3)] == [200, 200, 200]


def test_daily_budget_and_remaining_header(pf: Planfix) -> None:
    pf.control("POST", "/ratelimit", {"daily_limit": 3, "enforce_daily": True})
    remaining = [pf.get("/ping").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    spent = pf.get("/ping")
    assert spent.status_code == 403 and spent.json()["code"] == 22 and spent.json()["timeToReset"] > 0
    pf.advance(24 * 3600)  # a new day in the account's time zone
    assert pf.get("/ping").status_code == 200


def test_request_counter_by_route(pf: Planfix) -> None:
    pf.get("/task/1001")
    pf.get("/task/1002")
    pf.post("/task/list", {})
    requests.get(pf.rest + "/ping")  # unauthenticated requests are counted too
    seen = pf.control("GET", "/requests")
    assert seen == {"total": 4, "by_route": {"GET /rest/task/<raw_id>": 2, "POST /rest/task/list": 1,
                                             "GET /rest/ping": 1}}
    pf.control("DELETE", "/requests")
    assert pf.control("GET", "/requests")["total"] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_runs_as_a_module() -> None:
    port = _free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "emulators.planfix", "--port", str(port), "--token", "cli-token"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/rest/ping",
                                      headers={"Authorization": "Bearer cli-token"}, timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "emulator did not start"
                time.sleep(0.05)
        assert answer.json() == {"result": "success"}
        demo = requests.get(f"http://127.0.0.1:{port}/rest/task/1001",
                            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, params={"fields": "name"})
        assert demo.json()["task"]["name"] == "Ромашка: коммуникация"
    finally:
        proc.terminate()
        proc.wait(timeout=5)

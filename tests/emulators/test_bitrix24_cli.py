"""`python -m emulators.bitrix24 --seed ...` starts a portal a person can curl; reset restores the seed."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from emulators.bitrix24 import DEMO_SEED
from tests.emulators.test_bitrix24_support import Emu, demo, demo_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_module_entry_point_serves_the_seeded_portal() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "emulators.bitrix24", "--port", str(port), "--seed", DEMO_SEED,
                             "--token", "cli-token", "--handler", "ONCRMDEALUPDATE=http://127.0.0.1:9/hook"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
        assert lines[0].strip() == f"webhook: http://127.0.0.1:{port}/rest/1/demo0webhook0key/"
        assert lines[1].strip() == "application_token: cli-token"
        deadline = time.monotonic() + 10
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/rest/1/demo0webhook0key/crm.deal.get.json?id=2", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status_code == 200 and r.json()["result"]["TITLE"] == "Монтаж линии"
        handlers = requests.get(f"http://127.0.0.1:{port}/_emulator/handlers", timeout=2).json()
        assert handlers[0]["event"] == "ONCRMDEALUPDATE" and handlers[0]["application_token"] == "cli-token"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_reset_restores_the_seed_and_seed_endpoint_adds_data(demo: Emu) -> None:
    demo.result("crm.deal.delete", {"id": 1})
    demo.result("crm.deal.add", {"fields": {"TITLE": "extra"}})
    demo.control("POST", "reset")
    assert demo.call("crm.deal.list", {"select": ["ID"]})["total"] == 6
    assert demo.result("crm.deal.get", {"id": 1})["TITLE"] == "Поставка оборудования"
    r = requests.post(f"{demo.url}/_emulator/seed", data="deals:\n  - {ID: 50, TITLE: Seeded later}\n", timeout=5)
    assert r.status_code == 200 and demo.result("crm.deal.get", {"id": 50})["TITLE"] == "Seeded later"
    demo.control("POST", "reset", {"seed": False})
    assert demo.call("crm.deal.list", {})["total"] == 0
    index = demo.control("GET", "")
    assert index["webhook_url"].endswith("/rest/1/demo0webhook0key/") and "/_emulator/reset" in index["endpoints"]

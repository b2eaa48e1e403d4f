"""The Bitrix24 request budget is one leaky bucket in the store: three processes calling one portal
together stay within its limit, where three processes pacing alone overrun it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from relay.ratelimit import SharedBucket
from relay.store import Store
from tests.support.process import ROOT

BURST, RATE = 10, 10.0
CALLS = 12  # per process


def test_bucket_reservations_follow_the_leak(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    first, second = SharedBucket(store, "test.bucket", RATE, BURST), SharedBucket(Store(db_url), "test.bucket", RATE, BURST)
    waits = [(first if n % 2 else second).reserve(now=1000.0) for n in range(12)]  # two "processes", one moment
    # Burst 10 less one place of headroom: nine go at once, then one every 1/RATE seconds.
    assert waits == [0] * 9 + [0.1, 0.2, 0.3]
    assert first.reserve(now=1001.2) == 0  # 1.2 s drained twelve places: the bucket is empty again
    store.dispose()


@pytest.fixture
def portal() -> Iterator[RunningServer]:
    server = serve_in_thread(create_portal(ROOT / "emulators" / "bitrix24" / "seeds" / "demo.yaml", rate_limit=True, burst=BURST, rate=RATE))
    yield server
    server.stop()


CALLER = """\
import sys
from pydantic import SecretStr
from connectors.bitrix24.client import Bitrix24Client
from connectors.bitrix24.settings import Bitrix24Settings
from relay.aio import LoopThread
from relay.ratelimit import SharedBucket
from relay.store import Store

url, webhook, shared, calls = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
settings = Bitrix24Settings(webhook_url=SecretStr(webhook), application_token=SecretStr("x" * 12), requests_per_second={rate},
                            burst={burst}, batch_linger_seconds=0, timeout_seconds=20)
budget = SharedBucket(Store(url), "bitrix24.bucket.test", {rate}, {burst}) if shared else None
client = Bitrix24Client(settings, LoopThread("bitrix24"), budget=budget)
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # all three start together
for _ in range(calls):
    client.call("crm.deal.get", {{"id": 1}})
client.close()
"""


def rejected_with(db_url: str, portal: RunningServer, shared: bool, tmp_path: Path) -> int:
    webhook = f"{portal.url}/rest/1/demo0webhook0key/"  # the demo seed's incoming webhook
    requests.delete(f"{portal.url}/_emulator/requests", timeout=10)
    requests.post(f"{portal.url}/_emulator/limits", json={"burst": BURST, "rate": RATE}, timeout=10)  # empties the bucket
    script = tmp_path / "caller.py"
    script.write_text(CALLER.format(rate=RATE, burst=BURST), encoding="utf-8")
    callers = [subprocess.Popen([sys.executable, str(script), db_url, webhook, "1" if shared else "0", str(CALLS)], cwd=ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}) for _ in range(3)]
    for caller in callers:
        assert caller.stdout is not None and caller.stdout.readline() == b"ready\n"
    for caller in callers:
        assert caller.stdin is not None
        caller.stdin.write(b"go\n")
        caller.stdin.flush()
    for caller in callers:
        _, errors = caller.communicate(timeout=120)
        assert caller.returncode == 0, errors.decode()[-2000:]
    counts = requests.get(f"{portal.url}/_emulator/requests", timeout=10).json()
    assert counts["by_method"].get("batch", 0) >= 3 * CALLS
    return int(counts.get("rejected", {}).get("QUERY_LIMIT_EXCEEDED", 0))


def test_three_processes_share_one_budget(db_url: str, portal: RunningServer, tmp_path: Path) -> None:
    Store(db_url).migrate()
    alone = rejected_with(db_url, portal, shared=False, tmp_path=tmp_path)
    together = rejected_with(db_url, portal, shared=True, tmp_path=tmp_path)
    assert alone > 0, "three processes pacing alone should overrun the portal's bucket"
    assert together == 0

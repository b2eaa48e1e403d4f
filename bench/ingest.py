"""Intake benchmark: the relay's /hooks endpoint against a bare Flask endpoint served the same way.

    python bench/ingest.py [--seconds 8] [--connections 16] [--rate 300] [--rounds 3]

Both servers run under waitress with 8 threads in their own processes; the load comes from a third
process on loopback. Printed: throughput (closed loop, bare and relay alternating for --rounds rounds; the
ratio is their median), p50/p99 acknowledgement latency at a fixed
rate (open loop), and lost events (acknowledged minus stored). Goals: relay ≥ 50% of the bare
throughput, p99 ≤ 50 ms at 300 req/s, zero lost.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadResult, closed_loop, open_loop  # noqa: E402
from tests.support.process import free_port  # noqa: E402

SECRET = "bench-secret-0123456789"
CONFIG = """\
store:
  url: sqlite:///{db}
web:
  port: {port}
  threads: 8
worker:
  threads: 2
logging:
  level: WARNING
sources:
  bench:
    type: webhook
    secret: {secret}
    kind: "{{{{ payload.type }}}}"
    entity_key: "{{{{ payload.entity }}}}"
    idempotency_key: "{{{{ payload.id }}}}"
rules: []
mappings: []
"""


def make_request(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "deal.updated", "entity": f"deal-{n % 500}", "id": f"evt-{n}", "fields": {"TITLE": f"Deal {n}", "OPPORTUNITY": n}}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Relay-Signature": signature}


def _load(mode: str, url: str, args: argparse.Namespace, first_id: int, out: "mp.Queue[LoadResult]") -> None:
    if mode == "closed":
        out.put(closed_loop(url, make_request, args.connections, args.seconds, first_id))
    else:
        out.put(open_loop(url, make_request, args.rate, args.seconds, first_id=first_id))


def run_load(mode: str, url: str, args: argparse.Namespace, first_id: int) -> LoadResult:
    ctx = mp.get_context("spawn")
    out: "mp.Queue[LoadResult]" = ctx.Queue()
    proc = ctx.Process(target=_load, args=(mode, url, args, first_id, out))
    proc.start()
    result = out.get(timeout=args.seconds * 4 + 60)
    proc.join()
    return result


def wait_port(url: str, seconds: float = 20) -> None:
    import requests
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.post(f"{url}/hooks/warmup", data=b"{}", timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise TimeoutError(url)


def stored_count(db: Path) -> int:
    import sqlite3
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM inbox_events").fetchone()[0])


def line(name: str, r: LoadResult) -> str:
    return (f"{name:<32} {r.rate:9.0f} req/s   ok {r.ok:6d}  errors {r.errors:4d}   "
            f"p50 {r.percentile(50) * 1000:7.1f} ms   p99 {r.percentile(99) * 1000:7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="closed-loop rounds, bare and relay alternating; the ratio is their median (a shared machine's "
                             "load shifts between phases, and alternating exposes both servers to it alike)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    db = tmp / "relay.db"
    relay_port, bare_port = free_port(), free_port()
    (tmp / "config.yaml").write_text(CONFIG.format(db=db, port=relay_port, secret=SECRET))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    relay = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(tmp / "config.yaml"), os.environ.get("BENCH_RELAY_COMMAND", "run")],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "relay.log", "wb"))
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_app.py"), str(bare_port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay_url, bare_url = f"http://127.0.0.1:{relay_port}", f"http://127.0.0.1:{bare_port}"
    try:
        wait_port(relay_url)
        wait_port(bare_url)
        print(f"intake benchmark: {args.seconds:.0f}s per phase, {args.connections} connections, open loop at {args.rate:.0f} req/s")
        ratios, acknowledged = [], 0
        for n in range(max(1, args.rounds)):
            bare_max = run_load("closed", f"{bare_url}/hooks/bench", args, n * 1_000_000)
            relay_max = run_load("closed", f"{relay_url}/hooks/bench", args, n * 1_000_000)
            acknowledged += relay_max.ok
            ratios.append(relay_max.rate / bare_max.rate if bare_max.rate else 0.0)
            print(line(f"bare Flask, closed loop #{n + 1}", bare_max))
            print(line(f"relay intake, closed loop #{n + 1}", relay_max) + f"   ratio {ratios[-1]:.2f}")
        bare_fixed = run_load("open", f"{bare_url}/hooks/bench", args, 100_000_000)
        relay_fixed = run_load("open", f"{relay_url}/hooks/bench", args, 100_000_000)
        time.sleep(0.5)
        acknowledged += relay_fixed.ok
        stored = stored_count(db)
        print(line(f"bare Flask, {args.rate:.0f} req/s", bare_fixed))
        print(line(f"relay intake, {args.rate:.0f} req/s", relay_fixed))
        ratio = statistics.median(ratios)
        print(f"throughput ratio relay/bare: {ratio:.2f} median of {', '.join(f'{r:.2f}' for r in ratios)} (goal >= 0.50)")
        print(f"p99 at {args.rate:.0f} req/s: {relay_fixed.percentile(99) * 1000:.1f} ms (goal <= 50 ms)")
        print(f"acknowledged {acknowledged}, stored {stored}, lost {acknowledged - stored} (goal 0)")
        return 0
    finally:
        for proc in (relay, bare):
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())

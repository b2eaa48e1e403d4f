"""Soak benchmark: does the relay's memory stay flat under hours of mixed work?

    python bench/soak.py [--minutes 30] [--rate 100] [--snapshots 100000]

Part 1 — snapshots: a relay process (the real Runtime on a SQLite file) observes `--snapshots`
deal-shaped entities through change detection, as read-backs do; its RSS is printed after.
Goal: 100,000 snapshots held in ≤ 200 MB RSS (they live in the store, not in memory).

Part 2 — soak: `app.py run` (web + worker + scheduler, SQLite) takes signed webhooks at `--rate`
per second for `--minutes`; rules render templates, write trace notes, start timers that fire a few
seconds later, cancel a third of them, and POST every fifth event to an outside endpoint (a bare
Flask app) through the effects log. The relay's RSS is sampled every 10 s; start is taken after a
tenth of the run (imports, caches and pools warmed up). Goal: RSS growth from start to end < 10%.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import SECRET, make_request, stored_count, wait_port  # noqa: E402
from bench.loadgen import open_loop  # noqa: E402
from tests.support.process import free_port  # noqa: E402

RULES = """\
rules:
  - id: soak-note
    when: {source: bench, kind: "deal.*"}
    do:
      - note: {text: "{{ payload.type }} for {{ payload.entity }}: {{ payload.fields.TITLE }}"}
  - id: soak-remind
    when: {source: bench, kind: "deal.*", if: "payload.fields.OPPORTUNITY % 3 != 0"}
    do:
      - start_timer: {kind: soak.remind, after: 5s, cancel_key: "soak-{{ payload.id }}", payload: {deal: "{{ payload.entity }}"}}
  - id: soak-cancel
    when: {source: bench, kind: "deal.*", if: "payload.fields.OPPORTUNITY % 3 == 1"}
    do:
      - cancel_timer: {cancel_key: "soak-{{ payload.id }}"}
  - id: soak-forward
    when: {source: bench, kind: "deal.*", if: "payload.fields.OPPORTUNITY % 5 == 0"}
    do:
      - http_post: {url: "{target}/hooks/soak", json: {deal: "{{ payload.entity }}", id: "{{ payload.id }}"}}
  - id: soak-fired
    when: {source: timer, kind: soak.remind}
    do:
      - note: {text: "reminder for {{ timer.deal }}"}
"""

SNAPSHOTS = """\
import resource, sys
sys.path.insert(0, {root!r})
from relay.config import load_config
from relay.runtime import Runtime
runtime = Runtime(load_config({config!r}))
for n in range({count}):
    runtime.snapshots.observe(f"bitrix24:deal:{{n}}", {{"ID": str(n), "TITLE": f"Сделка {{n}}", "STAGE_ID": "NEW",
                              "OPPORTUNITY": f"{{n * 10}}.00", "CATEGORY_ID": "0", "ASSIGNED_BY_ID": "1",
                              "UF_CRM_PARENT_DEAL": "", "COMMENTS": "x" * 200}}, None)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def snapshots_part(tmp: Path, count: int) -> None:
    config = tmp / "snapshots.yaml"
    config.write_text(f"store:\n  url: sqlite:///{tmp / 'snapshots.db'}\nlogging:\n  level: WARNING\nrules: []\nmappings: []\n")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", SNAPSHOTS.format(root=str(ROOT), config=str(config), count=count)],
                         capture_output=True, text=True, check=True)
    peak = int(out.stdout.strip().splitlines()[-1])
    print(f"snapshots: {count} observed in {time.monotonic() - started:.0f} s; peak RSS {peak} MB (goal <= 200 MB)")


def soak_part(tmp: Path, minutes: float, rate: float) -> None:
    port, target_port = free_port(), free_port()
    db = tmp / "relay.db"
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "rules" / "soak.yaml").write_text(RULES.replace("{target}", f"http://127.0.0.1:{target_port}"))
    (tmp / "config.yaml").write_text(textwrap.dedent(f"""\
        store:
          url: sqlite:///{db}
        web:
          port: {port}
        worker:
          threads: 8
        scheduler:
          tick_seconds: 1
        logging:
          level: WARNING
        sources:
          bench:
            type: webhook
            secret: {SECRET}
            kind: "{{{{ payload.type }}}}"
            entity_key: "{{{{ payload.entity }}}}"
            idempotency_key: "{{{{ payload.id }}}}"
        rules: [rules/*.yaml]
        mappings: []
        """))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    target = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_app.py"), str(target_port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(tmp / "config.yaml"), "run"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=open(tmp / "relay.log", "wb"))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_port(url)
        wait_port(f"http://127.0.0.1:{target_port}")
        total = minutes * 60
        print(f"soak: {minutes:g} min at {rate:g} events/s against `app.py run` (pid {relay.pid})")
        samples: list[tuple[float, float]] = []
        started, sent, first_id = time.monotonic(), 0, 0
        while (elapsed := time.monotonic() - started) < total:
            chunk = min(10.0, total - elapsed)
            result = open_loop(f"{url}/hooks/bench", make_request, rate, chunk, first_id=first_id)
            first_id += 10_000_000
            sent += result.ok
            samples.append((time.monotonic() - started, rss_mb(relay.pid)))
            print(f"  {samples[-1][0]:6.0f} s  RSS {samples[-1][1]:6.1f} MB  acknowledged {sent}  errors {result.errors}", flush=True)
        time.sleep(8)  # let the worker drain and the last timers fire
        warm = next((mb for at, mb in samples if at >= total / 10), samples[0][1])
        end = samples[-1][1]
        print(f"RSS after warm-up {warm:.1f} MB, at the end {end:.1f} MB, peak {max(mb for _, mb in samples):.1f} MB; "
              f"growth {100 * (end - warm) / warm:+.1f}% (goal < 10%)")
        print(f"acknowledged {sent}, stored {stored_count(db)} (events and fired timers)")
    finally:
        for proc in (relay, target):
            proc.terminate()
            proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second")
    parser.add_argument("--snapshots", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="relay-soak-"))
    if args.snapshots:
        snapshots_part(tmp, args.snapshots)
    if args.minutes > 0:
        soak_part(tmp, args.minutes, args.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())

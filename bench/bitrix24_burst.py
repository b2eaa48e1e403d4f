"""Bitrix24 burst benchmark: 1,000 deal-update events, 10% entering Evaluate, against the emulator's
real leaky bucket (50 burst, 2 requests/s), through the relay; then the same workload through a naive
one-call-per-read/write handler, in the same run.

    python bench/bitrix24_burst.py [--deals 1000] [--naive-sample 100]

Printed: REST requests used, drain time, and the naive path's figures. The naive path at 2 requests/s
takes over ten minutes for 1,000 events, so it runs on a sample (the first N events of the same mix)
and its 1,000-event time is projected from the bucket's arithmetic: (requests − burst) / rate.
Goals: ≤ 60 REST requests per 1,000 events; drain ≤ 30 s; ≥ 20× faster than the naive path.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulators.bitrix24 import create_app as create_portal  # noqa: E402
from emulators.common.server import serve_in_thread  # noqa: E402
from relay.config import load_config  # noqa: E402
from relay.logs import setup_logging  # noqa: E402
from relay.runtime import Runtime  # noqa: E402
from relay.web import create_app  # noqa: E402
from relay.worker import Worker  # noqa: E402

CODE, TOKEN = "bench0webhook0code", "bench0application0token"
RULES = """\
rules:
  - id: logistics-estimate
    when:
      source: bitrix24
      kind: "deal.*"
      if: "deal.CATEGORY_ID in ('0', 0) and change.entered('STAGE_ID', 'UC_EVALUATE')"
    do:
      - create_child:
          mapping: sales_to_logistics
          category_id: 1
          stage_id: "C1:NEW"
          parent_link_field: UF_CRM_PARENT_DEAL
          child_link_field: UF_CRM_CHILD_DEALS
"""


def rest(url: str, method: str, params: dict[str, Any]) -> Any:
    body = requests.post(f"{url}/rest/1/{CODE}/{method}.json", json=params, timeout=60).json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body}")
    return body["result"]


def start_portal(limits: bool) -> Any:
    seed = ROOT / "emulators" / "bitrix24" / "seeds" / "demo.yaml"
    app = create_portal(seed=seed, webhook_code=CODE, application_token=TOKEN, rate_limit=False)
    server = serve_in_thread(app)
    return server, app.extensions["bitrix24"]


def set_limits(url: str, on: bool) -> None:
    requests.post(f"{url}/_emulator/limits", json={"rate_limit": on, "plan": "standard"}, timeout=10)
    requests.delete(f"{url}/_emulator/requests", timeout=10)


def make_deals(url: str, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 50):
        cmd = {f"d{i}": f"crm.deal.add?fields[TITLE]=Bench%20deal%20{i}&fields[STAGE_ID]=NEW&fields[OPPORTUNITY]={1000 + i}&fields[COMPANY_ID]=2"
               for i in range(start, min(count, start + 50))}
        ids += [int(v) for v in rest(url, "batch", {"halt": 0, "cmd": cmd})["result"].values()]
    return ids


def update_all(url: str, ids: list[int]) -> int:
    """Every deal gets one update; every tenth enters Evaluate. Returns how many qualify."""
    qualifying = 0
    for start in range(0, len(ids), 50):
        cmd = {}
        for n, deal_id in enumerate(ids[start:start + 50], start=start):
            if n % 10 == 0:
                qualifying += 1
                cmd[f"u{n}"] = f"crm.deal.update?id={deal_id}&fields[STAGE_ID]=UC_EVALUATE"
            else:
                cmd[f"u{n}"] = f"crm.deal.update?id={deal_id}&fields[COMMENTS]=touched%20{n}"
        rest(url, "batch", {"halt": 0, "cmd": cmd})
    return qualifying


def run_relay(deals: int, tmp: Path) -> dict[str, float]:
    server, portal = start_portal(limits=False)
    for folder in ("rules", "mappings"):
        (tmp / folder).mkdir(exist_ok=True)
    (tmp / "rules" / "bench.yaml").write_text(RULES, encoding="utf-8")
    shutil.copy(ROOT / "mappings" / "linked_deals.yaml", tmp / "mappings" / "linked_deals.yaml")
    (tmp / "config.yaml").write_text(f"""\
store:
  url: sqlite:///{tmp / 'relay.db'}
worker:
  threads: 64
  poll_seconds: 0.05
logging:
  level: WARNING
connectors:
  bitrix24:
    webhook_url: "{server.url}/rest/1/{CODE}/"
    application_token: {TOKEN}
    batch_linger_seconds: 0.05
    sweep: {{interval_seconds: 3600}}
rules: [rules/*.yaml]
mappings: [mappings/*.yaml]
""", encoding="utf-8")
    config = load_config(tmp / "config.yaml")
    setup_logging("WARNING", "text")
    runtime = Runtime(config)
    relay = serve_in_thread(create_app(runtime))
    ids = make_deals(server.url, deals)
    requests.post(f"{server.url}/_emulator/events/settings", json={"paused": True}, timeout=10)
    for event in ("ONCRMDEALADD", "ONCRMDEALUPDATE"):
        portal.add_handler(event, f"{relay.url}/hooks/bitrix24")
    qualifying = update_all(server.url, ids)
    set_limits(server.url, True)  # a full bucket: 50 burst, then 2/s
    worker = Worker(runtime)
    worker.start()
    started = time.monotonic()
    requests.post(f"{server.url}/_emulator/events/settings", json={"paused": False}, timeout=10)
    requests.post(f"{server.url}/_emulator/events/flush", json={"timeout": 60}, timeout=120)
    while True:
        requests.post(f"{server.url}/_emulator/events/flush", json={"timeout": 5}, timeout=60)
        depth = runtime.inbox.depth()
        if not depth.get("pending") and not depth.get("processing") and portal.events.pending() == 0:
            break
        time.sleep(0.05)
    drained = time.monotonic() - started
    counts = requests.get(f"{server.url}/_emulator/requests", timeout=10).json()
    requests.post(f"{server.url}/_emulator/limits", json={"rate_limit": False}, timeout=10)  # counting is not the workload
    children = requests.post(f"{server.url}/rest/1/{CODE}/crm.deal.list.json", timeout=30,
                             json={"filter": {"CATEGORY_ID": 1, ">ID": ids[0]}, "select": ["ID"]}).json()["total"]
    events = sum(runtime.inbox.depth().values())
    worker.stop()
    relay.stop()
    server.stop()
    runtime.close()
    print(f"requests by method: {counts['by_method']}; batch commands: {counts['batch_commands']}")
    return {"events": events, "qualifying": qualifying, "children": children, "requests": counts["total"],
            "rejected": sum(counts["rejected"].values()), "seconds": drained}


def run_naive(sample: int) -> dict[str, float]:
    """One REST call per read and per write, as a simple webhook handler would do it."""
    server, _ = start_portal(limits=False)
    ids = make_deals(server.url, sample)
    set_limits(server.url, True)
    started = time.monotonic()
    calls = 0
    for n, deal_id in enumerate(ids):
        stage = "UC_EVALUATE" if n % 10 == 0 else None
        while True:  # a naive client waits out QUERY_LIMIT_EXCEEDED and tries again
            answer = requests.post(f"{server.url}/rest/1/{CODE}/crm.deal.get.json", json={"id": deal_id}, timeout=30)
            calls += 1
            if answer.status_code != 503:
                break
            time.sleep(0.5)
        if stage:
            for method, params in (("crm.deal.list", {"filter": {"UF_CRM_PARENT_DEAL": str(deal_id)}, "select": ["ID"]}),
                                   ("crm.deal.add", {"fields": {"TITLE": f"child of {deal_id}", "CATEGORY_ID": 1, "UF_CRM_PARENT_DEAL": str(deal_id)}}),
                                   ("crm.deal.update", {"id": deal_id, "fields": {"UF_CRM_CHILD_DEALS": ["1"]}})):
                while True:
                    answer = requests.post(f"{server.url}/rest/1/{CODE}/{method}.json", json=params, timeout=30)
                    calls += 1
                    if answer.status_code != 503:
                        break
                    time.sleep(0.5)
    seconds = time.monotonic() - started
    server.stop()
    needed = sample + sample // 10 * 3
    return {"events": sample, "requests": needed, "attempts": calls, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--naive-sample", type=int, default=100)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="relay-b24-bench-"))
    relay = run_relay(args.deals, tmp)
    naive = run_naive(args.naive_sample)
    naive_requests_full = args.deals + args.deals // 10 * 3
    naive_seconds_full = max(0.0, (naive_requests_full - 50) / 2.0)
    print(f"relay: {args.deals} update events ({relay['qualifying']:.0f} entering Evaluate), {relay['events']:.0f} events in the inbox "
          f"(children's and echoes' included), {relay['children']:.0f} children created")
    print(f"relay: {relay['requests']:.0f} REST requests ({relay['requests'] / args.deals * 1000:.0f} per 1,000 events; goal <= 60), "
          f"{relay['rejected']:.0f} rejected by the bucket, drained in {relay['seconds']:.1f} s (goal <= 30 s)")
    print(f"naive sample: {naive['events']:.0f} events, {naive['requests']:.0f} requests needed, {naive['attempts']:.0f} sent "
          f"(with 503 retries), {naive['seconds']:.1f} s")
    print(f"naive projected for {args.deals}: {naive_requests_full} requests, >= {naive_seconds_full:.0f} s at 2 requests/s after the 50 burst")
    print(f"speed-up relay vs naive: {naive_seconds_full / relay['seconds']:.0f}x (goal >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

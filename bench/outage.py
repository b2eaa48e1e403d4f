"""Upstream outage benchmark: the emulated Bitrix24 portal stops listening for two minutes while
sales deals wait in the inbox to get their department children; then it comes back on the same port.

    python bench/outage.py [--parents 50] [--minutes 2]

Printed: for a baseline run with the portal up all along, the seconds to process the same parents;
for the outage run, how many events waited, how many went to dead letters during the outage (goal 0),
how many tries found the portal down, the highest attempt count (goal: not raised by the outage), the
seconds from the portal's return to an empty queue, and whether every parent got exactly one child
per department. The worker keeps the shipped retry settings except a 4-attempt limit, which the old
behaviour (every failed try counted) would exhaust in seconds.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos.outage import new_parents, outage  # noqa: E402
from tests.support.bitrix24 import LinkedDeals, start_linked_deals  # noqa: E402


def writer(folder: Path) -> Callable[..., Path]:
    def write(config: str, **files: str) -> Path:
        path = folder / "config.yaml"
        path.write_text(config, encoding="utf-8")
        return path
    return write


def world(folder: Path, start_worker: bool) -> LinkedDeals:
    folder.mkdir()
    return start_linked_deals(f"sqlite:///{folder / 'relay.db'}", writer(folder), folder, start_worker=start_worker,
                              backoff_max_seconds=300)


def one_child_each(w: LinkedDeals, parents: list[int]) -> bool:
    return all([c["CATEGORY_ID"] for c in w.children(p)] == ["1", "2"] for p in parents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the outage's connection errors are the point, not news
    with tempfile.TemporaryDirectory() as tmp:
        base = world(Path(tmp) / "baseline", start_worker=True)
        started = time.monotonic()
        ids = new_parents(base, args.parents)
        base.settle(300)
        baseline = time.monotonic() - started
        ok = one_child_each(base, ids)
        base.stop()
        print(f"baseline, portal up: {args.parents} parents processed in {baseline:.1f} s; one child per department: {ok}")

        w = world(Path(tmp) / "outage", start_worker=False)
        result = outage(w, args.parents, args.minutes * 60, drain_timeout=600)
        depth = w.runtime.inbox.depth()
        ok = one_child_each(w, result.parents)
        w.stop()
    print(f"outage of {args.minutes:g} min: {result.waited_during_outage} events waiting, {result.dead_during_outage} dead "
          f"during it (goal 0); {result.tries_during_outage} tries found the portal down "
          f"({result.tries_during_outage / max(1, args.parents):.1f} per event); highest attempt count {result.most_attempts_counted}")
    print(f"drained {result.drain_seconds:.1f} s after the portal came back ({result.drain_seconds / baseline:.1f}× the baseline's "
          f"processing time); queue at the end {depth}; one child per department: {ok}")


if __name__ == "__main__":
    main()

"""The full chaos run: `python bench/chaos.py [--size 2000] [--db URL] [--keep DIR]`.

The same run as tests/chaos/test_chaos_reduced.py (faults on every emulator, lossy Bitrix24
delivery, 429s, the worker SIGKILLed three times), about ten times larger. Prints the report; the
figures go to docs/BENCHMARKS.md. Exits 1 if the run found a problem.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.run import run_chaos  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=2000, help="operations (deal changes, messages, payments); default 2000")
    parser.add_argument("--db", default="", help="store URL (default: a SQLite file in the work folder); "
                                                 "postgresql://... for PostgreSQL (use an empty database)")
    parser.add_argument("--faults", type=float, default=0.1, help="share of requests each emulator breaks (default 0.1)")
    parser.add_argument("--keep", default="", help="work folder to keep (config, logs, SQLite store); default: a temporary one")
    args = parser.parse_args(argv)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="relay-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = args.db or f"sqlite:///{workdir / 'relay.db'}"
    print(f"chaos run: {args.size} operations, {args.faults:.0%} faults, store {db_url.split('@')[-1]}, work folder {workdir}", flush=True)
    started = time.monotonic()
    report = run_chaos(db_url, workdir, size=args.size, fault_rate=args.faults, say=lambda line: print(line, flush=True))
    print(report.summary())
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())

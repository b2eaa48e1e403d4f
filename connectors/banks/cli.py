"""`python app.py bank import FILE`: load a 1C statement file the accountant downloaded.

The same store as every other route: operations already known (from a webhook, a statement poll
or an earlier file) are counted, not stored or queued again, so importing a file twice is safe.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from connectors.banks import onec
from connectors.banks.operations import Operations

BATCH = 200  # operations per transaction: big files commit as they go, the progress bar moves
PROGRESS_FROM = 500  # smaller files finish before a bar would be worth drawing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bank_command", required=True, metavar="action")
    imp = sub.add_parser("import", help="import a 1C ClientBankExchange file (cp1251, cp866 or UTF-8)")
    imp.add_argument("file", help="the statement file, e.g. kl_to_1c.txt")
    imp.add_argument("--account", action="append", default=[], metavar="NUMBER",
                     help="our account number, if the file does not name it in РасчСчет (repeatable)")


def run(args: argparse.Namespace, runtime: Any) -> int:
    """`bank import`; the command owns the runtime it is given and closes it."""
    try:
        return _import(args, runtime)
    finally:
        runtime.close()


def _import(args: argparse.Namespace, runtime: Any) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        operations = onec.parse(data, args.account)
    except onec.OneCError as exc:
        print(f"error: {path}:{exc.line}: {exc.message}", file=sys.stderr)
        return 1
    settings = runtime.config.connectors.get("bank")
    store = Operations(runtime.store, getattr(settings, "tolerance_days", 3))
    new = known = 0
    with tqdm(total=len(operations), unit="op", file=sys.stderr, disable=len(operations) < PROGRESS_FROM,
              desc=path.name) as bar:
        for start in range(0, len(operations), BATCH):
            results = store.ingest(operations[start:start + BATCH])
            fresh = sum(r.new for r in results)
            new, known = new + fresh, known + len(results) - fresh
            bar.update(len(results))
    print(f"{path.name}: {len(operations)} operation(s): {new} new, {known} already known")
    return 0

"""`python app.py report NAME [--format csv|json] [--param KEY=VALUE]... [--output FILE]`, `report --list`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from connectors.reports.settings import DEFAULT_FILES
from relay.config.errors import ConfigError
from relay.reports.definitions import load_reports
from relay.reports.engine import ReportParamError, run_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the report (see --list)")
    parser.add_argument("--list", action="store_true", help="list the reports and their parameters")
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="a report parameter (repeatable)")
    parser.add_argument("--output", metavar="FILE", help="write here instead of standard output")


def run(args: argparse.Namespace, runtime: Any) -> int:
    try:
        return _run(args, runtime)
    finally:
        runtime.close()


def _run(args: argparse.Namespace, runtime: Any) -> int:
    settings = runtime.config.connectors.get("reports")
    files = settings.files if settings is not None else DEFAULT_FILES
    try:
        reports = load_reports(runtime.config.base_dir, files)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    if args.list or not args.name:
        for name, report in sorted(reports.items()):
            params = ", ".join(f"{k}={v}" for k, v in report.params.items())
            print(f"{name}\t{report.description}" + (f"\t[{params}]" if params else ""))
        return 0 if args.list or reports else 1
    report = reports.get(args.name)
    if report is None:
        print(f"error: no report named {args.name!r}; fix: one of {', '.join(sorted(reports)) or '(none in ' + ', '.join(files) + ')'}", file=sys.stderr)
        return 1
    params: dict[str, str] = {}
    for item in args.param:
        key, eq, value = item.partition("=")
        if not eq or not key:
            print(f"error: --param {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 1
        params[key.strip()] = value
    try:
        result = run_report(runtime.store, report, params)
    except ReportParamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = result.as_csv() if args.format == "csv" else result.as_json() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if result.skipped > len(result.problems):
        print(f"warning: {result.skipped} row(s) skipped in all", file=sys.stderr)
    return 0

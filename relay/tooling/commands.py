"""The command-line side of the rule tooling: `check [--live]`, `test [PATH...]`, `simulate`.

relay/cli.py owns the commands; this module parses their arguments and prints their results, so
each command stays a few lines there. Every error is one line that says what is wrong and the fix.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from relay.config.loader import LoadedConfig


def add_tooling_arguments(sub: Any, commands: dict[str, Callable[[argparse.Namespace], int]]) -> None:
    check = sub.add_parser("check", help=(commands["check"].__doc__ or "").strip())
    check.add_argument("--live", action="store_true",
                       help="also ask the connected systems whether the fields, stages and pipelines that rules name exist")
    test = sub.add_parser("test", help=(commands["test"].__doc__ or "").strip())
    test.add_argument("paths", nargs="*", metavar="PATH", help="test files, rule files (their x_test.yaml) or folders; default: all")
    simulate = sub.add_parser("simulate", help=(commands["simulate"].__doc__ or "").strip())
    what = simulate.add_mutually_exclusive_group(required=True)
    what.add_argument("--event", type=Path, metavar="FILE", help="YAML/JSON file with source, kind, payload")
    what.add_argument("--deal", metavar="ID", help="read this deal from the portal and compare it with the stored snapshot")
    for parser in (check, test, simulate):  # `app.py simulate --deal 1 --config x.yaml` reads as naturally as the other order
        parser.add_argument("--config", default=argparse.SUPPRESS, help="config file (as the option before the command)")


def report_check(config: LoadedConfig, live: bool) -> int:
    """Print lint problems (and live ones); 1 if any is an error."""
    from relay.tooling.lint import lint_config
    result = lint_config(config)
    problems = list(result.problems)
    if live:
        from relay.tooling.live import live_problems
        problems = sorted(problems + live_problems(config, result.refs), key=lambda p: (p.where.file, p.where.line or 0))
        print(f"live: checked {len(result.refs)} field, stage and pipeline name(s) against {', '.join(sorted({r.connector for r in result.refs})) or 'nothing'}")
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    summary = (f"{len(config.files)} file(s), {len(config.sources)} source(s), {len(config.connectors)} connector(s), "
               f"{len(config.rules)} rule(s), {len(config.mappings)} mapping(s)")
    if errors:
        print(f"{errors} error(s), {warnings} warning(s) in {summary}: rules with errors cannot work as written; fix them and run check again")
        return 1
    print(f"ok: {summary}" + (f", {warnings} warning(s)" if warnings else ""))
    return 0


def run_tests(config: LoadedConfig, paths: list[str]) -> int:
    from relay.tooling.ruletest import find_test_files, report, run_test_files
    files = find_test_files(config, paths)
    text, passed = report(run_test_files(config, files) if files else [])
    print(text)
    return 0 if passed else 1


def run_simulate(config: LoadedConfig, event_file: Path | None, deal: str | None) -> int:
    from relay.tooling.simulate import SimulateError, simulate
    try:
        outcome = simulate(config, event_file=event_file, entity=("deal", str(deal)) if deal else None)
    except SimulateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))
    return 1 if outcome["error"] else 0

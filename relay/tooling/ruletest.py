"""`python app.py test [PATH...]`: rule tests beside rule files, run offline in dry-run mode.

Each `x_test.yaml` tests the rules of `x.yaml` (as config.yaml loads them, with every mapping). The
relay runs on a throwaway SQLite store; every connector that can is switched to its offline stand-in
(`connector.offline(objects)`), so nothing reaches the network. For each case the store is emptied,
seeded (the entity's `before` as the last snapshot, links, timers), and the event goes through the
real connector read-back and the real engine with actions planning instead of writing.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from relay.config.loader import LoadedConfig
from relay.config.models import StoreConfig
from relay.intake.base import IncomingEvent
from relay.store import utcnow
from relay.store.schema import Base
from relay.tooling.casefile import Case, load_test_file, merged_objects
from relay.tooling.dryrun import claimed, dry_run
from relay.tooling.expect import diff, planned

TEST_SUFFIX = "_test.yaml"


class CaseSetupError(Exception):
    """The case cannot be set up as written (the message says what to change)."""


@dataclass
class CaseResult:
    name: str
    where: str
    passed: bool
    detail: str = ""


@dataclass
class FileResult:
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.cases)


def find_test_files(config: LoadedConfig, paths: list[str]) -> list[Path]:
    """The test files named (a test file, a rule file's sibling, or every test file in a folder);
    none named: every `*_test.yaml` the config's rule globs match."""
    if not paths:
        found = [p for pattern in config.settings.rules for p in sorted(config.base_dir.glob(pattern))]
        return list(dict.fromkeys(p for p in found if p.name.endswith(TEST_SUFFIX)))
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out.extend(sorted(path.rglob(f"*{TEST_SUFFIX}")))
        elif path.name.endswith(TEST_SUFFIX):
            out.append(path)
        else:
            out.append(path.with_name(path.name[:-len(path.suffix)] + TEST_SUFFIX) if path.suffix else path)
    return out


def run_test_files(config: LoadedConfig, files: list[Path]) -> list[FileResult]:
    from relay.runtime import Runtime
    with tempfile.TemporaryDirectory(prefix="relay-rule-tests-") as folder:
        store = StoreConfig(url=f"sqlite:///{Path(folder) / 'rule-tests.db'}")
        runtime = Runtime(dataclasses.replace(config, settings=config.settings.model_copy(update={"store": store})))
        try:
            return [_run_file(runtime, config, path) for path in files]
        finally:
            runtime.close()


def _display(config: LoadedConfig, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.base_dir))
    except ValueError:
        return str(path)


def _run_file(runtime: Any, config: LoadedConfig, path: Path) -> FileResult:
    shown = _display(config, path)
    result = FileResult(shown)
    if not path.exists():
        result.problems.append(f"error: {shown}: no such test file; fix: write it beside its rule file (x.yaml → x{TEST_SUFFIX})")
        return result
    tests, doc, problems = load_test_file(path, shown)
    if tests is None:
        result.problems.extend(f"error: {p}; fix: see docs/rules.md, “Rule tests”" for p in problems)
        return result
    rule_file = path.with_name(path.name[:-len(TEST_SUFFIX)] + ".yaml").resolve()
    rules = [r for r in config.rules if (config.base_dir / r.file).resolve() == rule_file]
    if not rules:
        result.problems.append(f"error: {shown}: {_display(config, rule_file)} holds no rules that {config.file} loads; "
                               f"fix: list it under `rules:` in {config.file}, or name the test after its rule file")
        return result
    for index, case in enumerate(tests.tests):
        where = f"{shown}:{doc.line_of(('tests', index))}"
        try:
            result.cases.append(_run_case(runtime, rules, case, merged_objects(tests.objects, case.objects), index, where))
        except CaseSetupError as exc:
            result.cases.append(CaseResult(case.name, where, False, f"error: {exc}"))
    return result


def _run_case(runtime: Any, rules: list[Any], case: Case, objects: dict[str, dict[str, Any]], index: int, where: str) -> CaseResult:
    _reset(runtime, objects)
    incoming = _event(runtime, case, index)
    if case.before is not None:
        runtime.snapshots.observe(incoming.entity_key, case.before)
    for link in case.links:
        runtime.links.set(link.kind, link.key, link.value, link.data)
    for j, timer in enumerate(case.timers):
        runtime.timers.schedule(f"test-timer:{j}", timer.kind, utcnow() + timedelta(days=1), timer.payload,
                                timer.entity_key or incoming.entity_key, timer.cancel_key)
    outcome = dry_run(runtime, rules, claimed(case.event.source, incoming, index + 1))
    trace = "".join(f"\n    trace: {step}: {message}" for step, message in outcome.trace)
    if case.expect_error is not None:
        if outcome.error and case.expect_error in outcome.error:
            return CaseResult(case.name, where, True)
        got = f"it failed with: {outcome.error}" if outcome.error else f"it planned {len(outcome.plan)} action(s) and did not fail"
        return CaseResult(case.name, where, False, f"expected an error containing {case.expect_error!r}; {got}{trace}")
    if outcome.error:
        return CaseResult(case.name, where, False, f"the event failed: {outcome.error}{trace}")
    difference = diff(case.expect or [], planned(outcome.plan))
    return CaseResult(case.name, where, not difference, difference.rstrip("\n") + (trace if difference else ""))


def _reset(runtime: Any, objects: dict[str, dict[str, Any]]) -> None:
    """An empty store and offline connectors holding this case's objects."""
    with runtime.store.session() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(table.delete())
    for name in objects:
        if not hasattr(_connector(runtime, name), "offline"):
            raise CaseSetupError(f"objects are given for {name!r}, but that connector cannot run offline (or is not configured)")
    for name in runtime.config.connectors:
        connector = _connector(runtime, name)
        if hasattr(connector, "offline"):
            connector.offline(objects.get(name, {}))


def _connector(runtime: Any, name: str) -> Any:
    try:
        return runtime.connector(name)
    except KeyError:
        return None


def _event(runtime: Any, case: Case, index: int) -> IncomingEvent:
    spec = case.event
    if case.before is None and case.after is None:
        return IncomingEvent(spec.kind, spec.entity_key or f"test:{index}", spec.payload, f"test:{index}")
    rehearse = getattr(_connector(runtime, spec.source), "rehearse_event", None)
    if rehearse is None:
        raise CaseSetupError(f"source {spec.source!r} cannot turn before/after into an event; give event.payload and event.entity_key instead")
    made: IncomingEvent = rehearse(spec.kind, {**(case.before or {}), **(case.after or {})})
    return IncomingEvent(spec.kind, spec.entity_key or made.entity_key, {**made.payload, **spec.payload}, f"test:{index}")


def report(results: list[FileResult]) -> tuple[str, bool]:
    """Readable text of every result and whether all passed."""
    lines: list[str] = []
    passed = failed = 0
    for file in results:
        lines.append(file.file)
        lines.extend(f"  {p}" for p in file.problems)
        failed += len(file.problems)
        for case in file.cases:
            lines.append(f"  {'PASS' if case.passed else 'FAIL'}  {case.name}" + ("" if case.passed else f"  ({case.where})"))
            if not case.passed:
                lines.extend(f"    {line}" for line in case.detail.splitlines())
            passed, failed = passed + case.passed, failed + (not case.passed)
    lines.append(f"{passed} passed, {failed} failed" if results else "no rule tests found (write rules/<name>_test.yaml; see docs/rules.md)")
    return "\n".join(lines), failed == 0 and bool(results)

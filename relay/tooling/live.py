"""`check --live`: the fields, stages and pipelines rules and mappings name, asked of the connected systems.

Each connector that can answer defines `describe_live(entities) → {entity: EntityCatalog | None}`;
this module only compares names, so it knows no wire format. The store is never touched: the
connectors are built on a throwaway store in a temporary folder.
"""
from __future__ import annotations

import dataclasses
import difflib
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from relay.config.loader import LoadedConfig
from relay.config.models import StoreConfig
from relay.config.yamlfile import read_yaml
from relay.redact import REDACTOR
from relay.tooling.problems import EntityCatalog, LintProblem, Ref, Where


def live_problems(config: LoadedConfig, refs: list[Ref]) -> list[LintProblem]:
    from relay.runtime import Runtime
    by_connector: dict[str, list[Ref]] = defaultdict(list)
    for ref in refs:
        by_connector[ref.connector].append(ref)
    problems: list[LintProblem] = []
    with tempfile.TemporaryDirectory(prefix="relay-check-") as folder:
        throwaway = config.settings.model_copy(update={"store": StoreConfig(url=f"sqlite:///{Path(folder) / 'unused.db'}")})
        # A throwaway store, but with its tables: connectors keep state there (the shared request budget).
        runtime = Runtime(dataclasses.replace(config, settings=throwaway))
        try:
            for name, own in sorted(by_connector.items()):
                problems += _check_connector(runtime, config, name, own)
        finally:
            runtime.close()
    return problems


def _check_connector(runtime: Any, config: LoadedConfig, name: str, refs: list[Ref]) -> list[LintProblem]:
    where = Where(config.file, read_yaml(Path(config.file))[0].line_of(("connectors", name)), f"connectors.{name}")
    try:
        connector = runtime.connector(name)
    except KeyError:
        connector = None
    describe = getattr(connector, "describe_live", None)
    if describe is None:
        return [LintProblem("warning", where, f"connector {name!r} cannot describe its live system; its names were not checked",
                            "check them by hand")]
    try:
        catalogs: dict[str, EntityCatalog | None] = describe({r.entity for r in refs})
    except Exception as exc:  # any failure to reach the system is one clear problem, not a traceback
        why = str(exc).strip().rstrip(":") or type(exc).__name__
        return [LintProblem("error", where, REDACTOR.text(f"could not ask {name} ({why})"),
                            f"check connectors.{name} in {config.file} and that the system is reachable")]
    problems = []
    missing: set[str] = set()
    for ref in refs:
        if ref.entity not in catalogs:
            continue
        catalog = catalogs[ref.entity]
        if catalog is None:
            if ref.entity not in missing:  # once, where it is first named
                missing.add(ref.entity)
                problems.append(LintProblem("error", ref.where, f"{name} has no {ref.entity.replace(':', ' ')}", "create it, or correct the entity type id"))
            continue
        problem = _resolve(name, ref, catalog)
        if problem is not None:
            problems.append(problem)
    return problems


def _resolve(system: str, ref: Ref, catalog: EntityCatalog) -> LintProblem | None:
    entity = ref.entity.replace(":", " ")
    if ref.kind == "field":
        if ref.value in catalog.fields:
            return None
        return LintProblem("error", ref.where, f"{system} has no {entity} field {ref.value}",
                           _close(ref.value, catalog.fields) + "correct the code, or create the field in the portal first")
    if ref.kind == "pipeline":
        if ref.value in catalog.pipelines:
            return None
        return LintProblem("error", ref.where, f"{system} has no {entity} pipeline {ref.value} (it has: {', '.join(catalog.pipelines)})",
                           "use one of those pipeline ids")
    if ref.pipeline is not None and catalog.pipelines and ref.pipeline not in catalog.pipelines:
        return None  # the missing pipeline is reported where it is named
    if ref.pipeline is not None and ref.pipeline in catalog.pipelines:
        stages = catalog.pipelines[ref.pipeline]
        if ref.value in stages:
            return None
        return LintProblem("error", ref.where, f"{system} has no stage {ref.value} in {entity} pipeline {ref.pipeline}",
                           _close(ref.value, set(stages)) + f"its stages: {', '.join(stages)}")
    every = {s for stages in catalog.pipelines.values() for s in stages}
    if not catalog.pipelines or ref.value in every:
        return None
    return LintProblem("error", ref.where, f"{system} has no {entity} stage {ref.value}",
                       _close(ref.value, every) + "use a stage id as crm.status.list shows it (pipeline N: C<N>:…)")


def _close(value: str, known: set[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.75)
    return f"did you mean {close[0]}? " if close else ""

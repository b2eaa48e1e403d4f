"""Lint a loaded config: what loads fine but cannot work as meant.

`load_config` already refuses what is malformed (unknown actions and keys, template syntax in
template-typed fields, missing mappings). The lint goes on from there: template syntax in fields
that are rendered but not typed as templates, names a template reads that its rule never has,
fields, stages and pipelines that the connected system probably lacks (offline) or surely lacks
(`check --live`), rules that can never match, timers nobody handles, mappings nobody uses.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from relay.config.loader import LoadedConfig
from relay.config.yamlfile import Path_, YamlDoc, dotted, read_yaml
from relay.engine.model import Rule
from relay.tooling.problems import LintProblem, Ref, RefKind, Severity, Where
from relay.tooling.templates import Analysis, analyse, looks_like_template
from relay.tooling.vocabulary import ADDS_TO_CONTEXT, BASE_NAMES, HELPERS, VOCABULARIES, MappingUse, Scope, action_use

UNUSED_MAPPING_FIX = "delete it, or name it in an action's `mapping:`"


@dataclass
class LintResult:
    problems: list[LintProblem] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)

    @property
    def errors(self) -> list[LintProblem]:
        return [p for p in self.problems if p.severity == "error"]


class _Linter:
    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self.docs: dict[str, YamlDoc] = {}
        self.result = LintResult()

    def doc(self, file: str) -> YamlDoc:
        if file not in self.docs:
            path = Path(file) if Path(file).is_absolute() else self.config.base_dir / file
            self.docs[file] = read_yaml(path, display=file)[0]
        return self.docs[file]

    def where(self, file: str, path: Path_) -> Where:
        return Where(file, self.doc(file).line_of(path), dotted(path))

    def problem(self, severity: Severity, where: Where, message: str, fix: str = "") -> None:
        self.result.problems.append(LintProblem(severity, where, message, fix))

    # --- one rule ---------------------------------------------------------------------------
    def rule(self, rule: Rule, timer_kinds: set[str]) -> None:
        base: Path_ = ("rules", rule.position)
        scope = self.scope(rule)
        vocabulary = VOCABULARIES.get(rule.when.source)
        if rule.when.if_:
            where = self.where(rule.file, base + ("when", "if"))
            found = self.text(rule.when.if_, True, scope, where, rule.when.source, rule.when.source)
            if vocabulary and found and rule.enabled:
                for severity, message, fix in vocabulary.condition(rule.when.if_, found, scope):
                    self.problem(severity, where, f"rule {rule.id!r}: {message}", fix)
        if rule.enabled:
            self.kinds(rule, timer_kinds)
        raw_actions = self._raw(rule.file, base + ("do",)) or []
        for j, call in enumerate(rule.actions):
            at: Path_ = base + ("do", j, call.name)
            use = action_use(call.name, call.params, scope)
            here = scope.extended(use.extra_names, use.entities) if use else Scope(None, scope.entities, scope.entity, scope.kind)
            raw = raw_actions[j].get(call.name) if j < len(raw_actions) and isinstance(raw_actions[j], dict) else None
            connector = use.connector if use and use.connector else rule.when.source
            for sub, text in _strings(raw, ()):
                if looks_like_template(text):
                    self.text(text, False, here, self.where(rule.file, at + sub), rule.when.source, connector)
            scope = scope.extended(ADDS_TO_CONTEXT.get(call.name, set()), {})  # what the following actions see too
            if use is None:
                continue
            for f in use.refs:
                self.ref(connector, f.kind, f.entity, f.value, self.where(rule.file, at + f.path), f.declares, f.pipeline)
            for m in use.mappings:
                self.mapping(m, rule.when.source, connector)

    def scope(self, rule: Rule) -> Scope:
        source = rule.when.source
        if source == "timer":
            return Scope(BASE_NAMES | {"timer"})
        if source in self.config.sources:
            return Scope(set(BASE_NAMES))
        vocabulary = VOCABULARIES.get(source)
        return vocabulary.scope(rule.when.kind) if vocabulary else Scope(None)

    def text(self, text: str, expression: bool, scope: Scope, where: Where, source: str, connector: str) -> Analysis | None:
        """Check one template or condition; `source` names the rule's source, `connector` whose vocabulary reads it."""
        found = analyse(text, expression)
        if found.error:
            self.problem("error", where, found.error, "fix the template; every event it renders for would fail")
            return None
        if scope.names is not None:
            for name in sorted(found.names - scope.names - HELPERS):
                known = ", ".join(sorted(scope.names))
                self.problem("warning" if found.guarded else "error", where,
                             f"unknown name {name!r}: a {source} rule here sees only {known}",
                             "use one of those names (a misspelt name fails the event when it is rendered)")
        vocabulary = VOCABULARIES.get(connector)
        if vocabulary is not None:
            for f in vocabulary.refs(found, scope):
                self.ref(connector, f.kind, f.entity, f.value, where, f.declares, f.pipeline)
        return found

    def ref(self, connector: str, kind: RefKind, entity: str, value: str, where: Where, declares: bool = False,
            pipeline: str | None = None) -> None:
        self.result.refs.append(Ref(connector, kind, entity, value, where, declares, pipeline))

    def mapping(self, use: MappingUse, source: str, connector: str) -> None:
        mapping = self.config.mappings.get(use.name)
        if mapping is None:
            return
        base: Path_ = ("mappings", use.name)
        for section in ("fields", "templates"):
            for key, text in getattr(mapping, section).items():
                where = self.where(mapping.file, base + (section, key))
                if looks_like_template(text):
                    self.text(text, False, use.scope, where, source, connector)
                if section == "fields" and use.fields_entity:
                    self.ref(connector, "field", use.fields_entity, key, where, declares=True)
        for key, value in mapping.stages.items():
            where = self.where(mapping.file, base + ("stages", key))
            if use.stages_from:
                self.ref(connector, "stage", use.stages_from[0], str(key), where, pipeline=use.stages_from[1])
            if use.stages_to:
                self.ref(connector, "stage", use.stages_to[0], str(value), where, pipeline=use.stages_to[1])

    # --- rules that can never run -------------------------------------------------------------
    def kinds(self, rule: Rule, timer_kinds: set[str]) -> None:
        source, pattern = rule.when.source, rule.when.kind
        if source == "timer":
            if not any(fnmatch.fnmatchcase(k, pattern) for k in timer_kinds):
                started = ", ".join(sorted(timer_kinds)) or "none"
                self.problem("warning", self.where(rule.file, ("rules", rule.position, "when", "kind")),
                             f"no rule starts a timer of kind {pattern!r} (started: {started}), so rule {rule.id!r} never runs",
                             "match the `kind` of a start_timer action")
            return
        kinds = self.source_kinds(source)
        if kinds is not None and not any(fnmatch.fnmatchcase(k, pattern) for k in kinds):
            self.problem("error", self.where(rule.file, ("rules", rule.position, "when", "kind")),
                         f"{source} never sends an event of kind {pattern!r}, so rule {rule.id!r} never runs",
                         f"use one of: {', '.join(kinds)} (shell patterns like `deal.*` allowed)")

    def source_kinds(self, source: str) -> list[str] | None:
        settings = self.config.sources.get(source)
        if settings is not None:
            kind = getattr(settings, "kind", None)
            return [kind] if isinstance(kind, str) and "{" not in kind else None
        vocabulary = VOCABULARIES.get(source)
        return vocabulary.kinds() if vocabulary is not None and source in self.config.connectors else None

    def timers(self, rules: list[Rule], timer_kinds: dict[str, Where]) -> None:
        handled = [r.when.kind for r in rules if r.enabled and r.when.source == "timer"]
        for kind, where in timer_kinds.items():
            if not any(fnmatch.fnmatchcase(kind, pattern) for pattern in handled):
                self.problem("warning", where, f"timers of kind {kind!r} fire, but no rule handles them",
                             f"add a rule with `when: {{source: timer, kind: {kind}}}`, or drop the timer")

    def _raw(self, file: str, path: Path_) -> Any:
        node: Any = self.doc(file).data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, path + (i,))


def lint_config(config: LoadedConfig) -> LintResult:
    """Every problem the lint finds without contacting any outside system."""
    linter = _Linter(config)
    started: dict[str, Where] = {}
    for rule in config.rules:
        for j, call in enumerate(rule.actions):
            if call.name == "start_timer" and rule.enabled:
                started.setdefault(call.params.kind, linter.where(rule.file, ("rules", rule.position, "do", j, call.name, "kind")))
    for rule in config.rules:
        linter.rule(rule, set(started))
    linter.timers(config.rules, started)
    for vocabulary in VOCABULARIES.values():
        linter.result.problems.extend(vocabulary.check([r for r in linter.result.refs if r.connector == vocabulary.connector]))
    for warning in config.warnings:
        fix = UNUSED_MAPPING_FIX if "not used by any rule" in warning.message else ""
        linter.problem("warning", Where(warning.file, warning.line, warning.field), warning.message, fix)
    result = linter.result
    result.problems = sorted(dict.fromkeys(result.problems), key=lambda p: (p.where.file, p.where.line or 0, p.severity, p.message))
    result.refs = list(dict.fromkeys(result.refs))
    return result

"""Load config.yaml and every rule and mapping file it names, or refuse with every problem found.

The relay never starts half-configured: `load_config` either returns a complete `LoadedConfig`
or raises `ConfigError` listing each problem with its file, line and field.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, get_args

from pydantic import BaseModel, SecretStr, ValidationError
from werkzeug.security import check_password_hash

from relay.config.errors import ConfigError, ConfigProblem
from relay.config.models import RelayConfig
from relay.config.yamlfile import Path_, YamlDoc, dotted, read_yaml
from relay.engine.model import ActionCall, Mapping, MappingsFile, Rule, RulesFile
from relay.registry import REGISTRY, load_builtins

RESERVED_SOURCES = {"timer", "review"}


@dataclass
class LoadedConfig:
    settings: RelayConfig
    base_dir: Path
    file: str
    sources: dict[str, BaseModel] = field(default_factory=dict)
    connectors: dict[str, BaseModel] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    mappings: dict[str, Mapping] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    warnings: list[ConfigProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def validation_problems(exc: ValidationError, doc: YamlDoc, base: Path_, model: type[BaseModel]) -> list[ConfigProblem]:
    """Turn pydantic's errors into admin-readable problems located in the YAML file."""
    problems = []
    for err in exc.errors(include_url=False):
        inner = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        loc = base + inner
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = ", ".join(_fields_at(model, inner[:-1]))
            message = f"unknown key {loc[-1]!r}" + (f" (expected one of: {allowed})" if allowed else "")
        elif kind == "missing":
            message = "required, but missing"
        else:
            shown = err.get("input")
            got = "" if isinstance(shown, (dict, list)) or shown is None else f" (got {shown!r})"
            message = f"{err['msg']}{got}"
        problems.append(ConfigProblem(doc.file, doc.line_of(loc), dotted(loc), message))
    return problems


def _validate(model: type[BaseModel], data: Any, doc: YamlDoc, base: Path_, problems: list[ConfigProblem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, doc, base, model))
        return None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `loc` inside `model` (for "expected one of" hints)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        annotation = getattr(info, "annotation", None)
        current = annotation if isinstance(annotation, type) else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items() if not f.exclude]
    return []


def _secret_values(value: Any) -> Iterable[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _secret_values(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _secret_values(v)


def _expand(base_dir: Path, patterns: list[str], suffix_skip: str = "") -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(base_dir.glob(pattern)) if any(c in pattern for c in "*?[") else [base_dir / pattern]
        found.extend(p for p in matches if not (suffix_skip and p.name.endswith(suffix_skip)))
    return found


def load_config(path: str | os.PathLike[str], environ: dict[str, str] | None = None) -> LoadedConfig:
    load_builtins()
    config_path = Path(path)
    problems: list[ConfigProblem] = []
    doc, found = read_yaml(config_path, environ, display=str(path))
    problems += found
    if doc.data is None:
        raise ConfigError(problems)
    if not isinstance(doc.data, dict):
        raise ConfigError(problems + [ConfigProblem(doc.file, 1, "", "expected a mapping of settings at the top level")])
    validated = _validate(RelayConfig, doc.data, doc, (), problems)
    settings = validated or _fallback_settings(doc.data)
    loaded = LoadedConfig(settings=settings, base_dir=config_path.resolve().parent, file=doc.file, files=[doc.file])
    loaded.secrets |= doc.secret_values
    if validated is not None:
        _load_plugins(settings, doc, problems)
        _load_sources(loaded, doc, problems)
        _load_connectors(loaded, doc, problems)
    docs = {doc.file: doc}
    for file in _expand(loaded.base_dir, settings.mappings):
        _load_mappings(loaded, file, environ, problems, docs)
    for file in _expand(loaded.base_dir, settings.rules, suffix_skip="_test.yaml"):
        _load_rules(loaded, file, environ, problems, docs)
    _cross_check(loaded, docs, problems)
    if validated is not None:
        _refuse_sandbox_admin(validated, doc, problems)
        from relay.sandbox.secrets import sandbox_secret_problems  # here: relay.sandbox imports relay.config
        problems += sandbox_secret_problems(loaded, doc)
    for model in [*loaded.sources.values(), *loaded.connectors.values()]:
        loaded.secrets |= {s for s in _secret_values(model) if s}
    if problems:
        raise ConfigError(problems)
    return loaded


SANDBOX_ADMIN_PASSWORD = "sandbox"


def _refuse_sandbox_admin(settings: RelayConfig, doc: YamlDoc, problems: list[ConfigProblem]) -> None:
    """The shipped config logs into /admin with a known password; a live relay must not."""
    admin = settings.admin
    if settings.mode != "live" or admin is None:
        return
    if check_password_hash(admin.password_hash.get_secret_value(), SANDBOX_ADMIN_PASSWORD) or \
            admin.secret_key.get_secret_value().startswith("sandbox-only"):
        problems.append(ConfigProblem(doc.file, doc.line_of(("admin",)), "admin", "still uses the sandbox password or secret key; "
                                      "set RELAY_ADMIN_PASSWORD_HASH and RELAY_ADMIN_SECRET_KEY for live mode (docs/admin.md)"))


def _fallback_settings(raw: dict[str, Any]) -> RelayConfig:
    """Settings good enough to keep checking rule and mapping files after config.yaml itself failed,
    so one run of `check` reports every problem. Never used to start the relay (problems exist)."""
    def names(key: str) -> dict[str, dict[str, Any]]:
        value = raw.get(key)
        return {str(k): {} for k in value} if isinstance(value, dict) else {}

    def globs(key: str, default: list[str]) -> list[str]:
        value = raw.get(key, default)
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else default

    return RelayConfig.model_construct(sources=names("sources"), connectors=names("connectors"), plugins=[],
                                       rules=globs("rules", ["rules/*.yaml"]), mappings=globs("mappings", ["mappings/*.yaml"]))


def _load_plugins(settings: RelayConfig, doc: YamlDoc, problems: list[ConfigProblem]) -> None:
    for i, module in enumerate(settings.plugins):
        try:
            importlib.import_module(module)
        except Exception as exc:  # any import failure is a config problem, reported at its line
            problems.append(ConfigProblem(doc.file, doc.line_of(("plugins", i)), f"plugins[{i}]", f"cannot import {module!r}: {exc}"))


def _load_sources(loaded: LoadedConfig, doc: YamlDoc, problems: list[ConfigProblem]) -> None:
    for name, raw in loaded.settings.sources.items():
        path: Path_ = ("sources", name)
        kind = raw.get("type") if isinstance(raw, dict) else None
        spec = REGISTRY.source_types.get(kind or "")
        if name in RESERVED_SOURCES or name in REGISTRY.connectors:
            problems.append(ConfigProblem(doc.file, doc.line_of(path), dotted(path), f"the name {name!r} is taken by a built-in source; choose another"))
        elif spec is None:
            known = ", ".join(sorted(REGISTRY.source_types))
            problems.append(ConfigProblem(doc.file, doc.line_of(path + ("type",)), dotted(path + ("type",)), f"unknown source type {kind!r} (expected one of: {known})"))
        else:
            model = _validate(spec.settings, raw, doc, path, problems)
            if model is not None:
                loaded.sources[name] = model


def _load_connectors(loaded: LoadedConfig, doc: YamlDoc, problems: list[ConfigProblem]) -> None:
    for name, raw in loaded.settings.connectors.items():
        path: Path_ = ("connectors", name)
        spec = REGISTRY.connectors.get(name)
        if spec is None:
            known = ", ".join(sorted(REGISTRY.connectors)) or "none installed"
            problems.append(ConfigProblem(doc.file, doc.line_of(path), dotted(path), f"unknown connector {name!r} (expected one of: {known})"))
            continue
        model = _validate(spec.settings, raw or {}, doc, path, problems)
        if model is not None:
            loaded.connectors[name] = model


def _read_part(loaded: LoadedConfig, file: Path, environ: dict[str, str] | None, problems: list[ConfigProblem], docs: dict[str, YamlDoc]) -> YamlDoc | None:
    shown = os.path.relpath(file, loaded.base_dir) if file.is_absolute() else str(file)
    part, found = read_yaml(file, environ, display=shown)
    problems += found
    loaded.files.append(part.file)
    loaded.secrets |= part.secret_values
    docs[part.file] = part
    if part.data is None:
        return None
    if not isinstance(part.data, dict):
        problems.append(ConfigProblem(part.file, 1, "", "expected a mapping at the top level"))
        return None
    return part


def _load_mappings(loaded: LoadedConfig, file: Path, environ: dict[str, str] | None, problems: list[ConfigProblem], docs: dict[str, YamlDoc]) -> None:
    part = _read_part(loaded, file, environ, problems, docs)
    parsed = part and _validate(MappingsFile, part.data, part, (), problems)
    if not parsed:
        return
    for name, raw in parsed.mappings.items():
        path: Path_ = ("mappings", name)
        if name in loaded.mappings:
            problems.append(ConfigProblem(part.file, part.line_of(path), dotted(path), f"mapping {name!r} is already defined in {loaded.mappings[name].file}"))
            continue
        mapping = _validate(Mapping, raw, part, path, problems)
        if mapping is not None:
            loaded.mappings[name] = mapping.model_copy(update={"file": part.file})


def _load_rules(loaded: LoadedConfig, file: Path, environ: dict[str, str] | None, problems: list[ConfigProblem], docs: dict[str, YamlDoc]) -> None:
    part = _read_part(loaded, file, environ, problems, docs)
    parsed = part and _validate(RulesFile, part.data, part, (), problems)
    if not parsed:
        return
    for i, raw in enumerate(parsed.rules):
        path: Path_ = ("rules", i)
        rule = _validate(Rule, raw, part, path, problems)
        if rule is None:
            continue
        rule = rule.model_copy(update={"file": part.file, "position": i})
        for j, item in enumerate(rule.do):
            call = _action_call(item, part, path + ("do", j), problems)
            if call is not None:
                rule.actions.append(call)
        loaded.rules.append(rule)


def _action_call(item: dict[str, Any], doc: YamlDoc, path: Path_, problems: list[ConfigProblem]) -> ActionCall | None:
    if len(item) != 1:
        problems.append(ConfigProblem(doc.file, doc.line_of(path), dotted(path), f"each action is one key (the action's name) with its settings; got keys {sorted(item)}"))
        return None
    (name, raw), = item.items()
    spec = REGISTRY.actions.get(name)
    if spec is None:
        known = ", ".join(sorted(REGISTRY.actions))
        problems.append(ConfigProblem(doc.file, doc.line_of(path + (name,)), dotted(path + (name,)), f"unknown action {name!r} (expected one of: {known})"))
        return None
    params = _validate(spec.params, raw if raw is not None else {}, doc, path + (name,), problems)
    return None if params is None else ActionCall(name=name, params=params, line=doc.line_of(path + (name,)))


def _cross_check(loaded: LoadedConfig, docs: dict[str, YamlDoc], problems: list[ConfigProblem]) -> None:
    """References between files: rule ids unique, sources exist, named mappings exist."""
    # Names as configured (even if their settings failed), so one mistake does not cascade.
    known_sources = set(loaded.settings.sources) | set(loaded.settings.connectors) | RESERVED_SOURCES
    seen: dict[str, str] = {}
    used_mappings: set[str] = set()
    for rule in loaded.rules:
        doc = docs[rule.file]
        path: Path_ = ("rules", rule.position)
        if rule.id in seen:
            problems.append(ConfigProblem(doc.file, doc.line_of(path + ("id",)), dotted(path + ("id",)), f"rule id {rule.id!r} is already used in {seen[rule.id]}"))
        seen[rule.id] = rule.file
        if rule.when.source not in known_sources:
            # A disabled rule may wait for a connector not configured yet (shipped examples): a warning, not a stop.
            (problems if rule.enabled else loaded.warnings).append(ConfigProblem(
                doc.file, doc.line_of(path + ("when", "source")), dotted(path + ("when", "source")),
                f"unknown source {rule.when.source!r} (configured: {', '.join(sorted(known_sources))})"
                + ("" if rule.enabled else "; the rule is disabled (enabled: false)")))
        for j, call in enumerate(rule.actions):
            for field_name, mapping_name in _mapping_refs(call.params):
                used_mappings.add(mapping_name)
                if mapping_name not in loaded.mappings:
                    where = path + ("do", j, call.name, field_name)
                    known = ", ".join(sorted(loaded.mappings)) or "none loaded"
                    problems.append(ConfigProblem(doc.file, doc.line_of(where), dotted(where), f"no mapping named {mapping_name!r} (known: {known})"))
    for name, mapping in loaded.mappings.items():
        if name not in used_mappings:
            doc = docs[mapping.file]
            loaded.warnings.append(ConfigProblem(doc.file, doc.line_of(("mappings", name)), f"mappings.{name}", "mapping is not used by any rule"))


def _names_mapping(annotation: Any) -> bool:
    """`MappingName | None`: the marker sits inside the Optional, where pydantic's metadata does not reach."""
    return any(getattr(m, "is_mapping_ref", False) for m in getattr(annotation, "__metadata__", ())) or \
        any(_names_mapping(arg) for arg in get_args(annotation))


def _mapping_refs(params: BaseModel) -> Iterable[tuple[str, str]]:
    """Fields whose metadata marks them as a mapping name (see relay.actions.params.MappingName)."""
    for name, info in type(params).model_fields.items():
        if any(getattr(m, "is_mapping_ref", False) for m in info.metadata) or _names_mapping(info.annotation):
            value = getattr(params, name)
            if value:
                yield name, value

"""`python app.py simulate --event FILE | --deal ID`: what the rules would do now, written nowhere.

The relay is built on the configured store and connectors, but the store is only read (the entity is
compared with its stored snapshot; the new snapshot is not kept) and actions plan instead of writing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from relay.config.loader import LoadedConfig, validation_problems
from relay.config.yamlfile import read_yaml
from relay.intake.base import IncomingEvent
from relay.redact import REDACTOR
from relay.tooling.casefile import EventSpec
from relay.tooling.dryrun import PreviewSnapshots, claimed, dry_run


class SimulateError(Exception):
    """Why the simulation could not start; one line with the fix."""


def read_event_file(path: Path) -> tuple[str, IncomingEvent]:
    """An event file: YAML or JSON with `source`, `kind`, `payload` and optionally `entity_key`."""
    doc, problems = read_yaml(path, display=str(path))
    if problems:
        raise SimulateError(f"{'; '.join(str(p) for p in problems)}; fix: an event file holds source, kind, payload (YAML or JSON)")
    try:
        spec = EventSpec.model_validate(doc.data if isinstance(doc.data, dict) else {})
    except ValidationError as exc:
        found = "; ".join(str(p) for p in validation_problems(exc, doc, (), EventSpec))
        raise SimulateError(f"{found}; fix: an event file holds source, kind, payload (YAML or JSON)") from None
    return spec.source, IncomingEvent(spec.kind, spec.entity_key or f"simulate:{spec.kind}", spec.payload, "simulate")


def simulate(config: LoadedConfig, event_file: Path | None = None, entity: tuple[str, str] | None = None) -> dict[str, Any]:
    """The planned actions for one event, as a JSON-ready dict. Raises SimulateError if it cannot start."""
    from relay.runtime import Runtime
    source, incoming = read_event_file(event_file) if event_file else ("", None)
    _refuse_missing_sqlite(config)
    runtime = Runtime(config, migrate=False)
    try:
        _check_store(runtime)
        if entity is not None:
            source, incoming = _entity_event(runtime, *entity)
        assert incoming is not None
        runtime.snapshots = PreviewSnapshots(runtime.snapshots)  # type: ignore[assignment]
        event = claimed(source, incoming)
        outcome = dry_run(runtime, runtime.engine.rules, event)  # with the rules connectors add (Telegram's built-ins)
        considered = [r.id for r in runtime.engine.matching(event)]
    finally:
        runtime.close()
    return REDACTOR.value({
        "event": {"source": source, "kind": event.kind, "entity_key": event.entity_key, "payload": event.payload},
        "candidate_rules": considered,
        "planned": [{"rule": p.rule, "action": p.action, "target": p.target, "key": p.key, "detail": p.detail} for p in outcome.plan],
        "trace": [{"step": step, "message": message} for step, message in outcome.trace],
        "error": outcome.error,
    })


def _refuse_missing_sqlite(config: LoadedConfig) -> None:
    """Opening a SQLite file that is not there would create it; a simulation creates nothing."""
    url = config.settings.store.url
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return
    path = Path(url[len(prefix):])
    path = path if path.is_absolute() else config.base_dir / path
    if not path.exists():
        raise SimulateError(f"the store {path} does not exist yet; fix: start the relay once (`python app.py run`), or point store.url at its database")


def _check_store(runtime: Any) -> None:
    url = REDACTOR.text(runtime.store.url)
    try:
        with runtime.store.engine.connect() as conn:
            ready = inspect(conn).has_table("snapshots")
    except SQLAlchemyError as exc:
        raise SimulateError(f"cannot read the store {url}: {type(exc).__name__}; fix: check store.url and that the database is up") from None
    if not ready:
        raise SimulateError(f"the store {url} has no relay tables yet; fix: start the relay once (`python app.py run`) so it sets them up")


def _entity_event(runtime: Any, entity: str, entity_id: str) -> tuple[str, IncomingEvent]:
    for name in runtime.config.connectors:
        event_for = getattr(runtime.connector(name), "event_for", None)
        made = event_for(entity, entity_id) if event_for else None
        if made is not None:
            return name, made
    raise SimulateError(f"no configured connector can read a {entity}; fix: configure the CRM connector (e.g. bitrix24) under `connectors:`")

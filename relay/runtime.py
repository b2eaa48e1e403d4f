"""Wires one configured relay: store, inbox, engine, effects, timers, sources and connectors.

Web, worker and scheduler each take a Runtime; `app.py run` starts all three on one Runtime,
`app.py web` / `app.py worker` start one each, sharing only the store.
"""
from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any, Callable

from relay.config import load_config
from relay.changes import Snapshots
from relay.config.loader import LoadedConfig
from relay.effects import Effects
from relay.engine.engine import Engine, base_context
from relay.inbox import Claimed, Inbox
from relay.links import Links
from relay.intake.base import Source
from relay.metrics import Metrics
from relay.redact import REDACTOR
from relay.reviews import Reviews
from relay.registry import REGISTRY
from relay.store import Store
from relay.templating import install_helpers
from relay.timers import Timers
from relay.trace import Tracer
from relay.workdays import load_calendar

def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else datetime.fromisoformat(str(value)).date()


class Runtime:
    def __init__(self, config: LoadedConfig, migrate: bool = True) -> None:
        self.config = config
        REDACTOR.add(*config.secrets)
        self.store = Store(self._store_url())
        if migrate:
            self.store.migrate()
        self.inbox = Inbox(self.store)
        self.tracer = Tracer(self.store)
        self.metrics = Metrics(self)
        self.effects = Effects(self.store, self.tracer, self.metrics.action_latency)
        self.timers = Timers(self.store)
        self.snapshots = Snapshots(self.store)
        self.links = Links(self.store)
        self.reviews = Reviews(self.store)
        calendar = config.settings.calendar
        self.calendar = load_calendar(calendar.country, config.base_dir / calendar.overrides if calendar.overrides else None)
        install_helpers(working_hours=self.calendar.working_hours_between,
                        working_days=lambda a, b: self.calendar.working_days_between(_day(a), _day(b)))
        self.engine = Engine(self, config.rules)
        self._connectors: dict[str, Any] = {name: REGISTRY.connectors[name].build(settings, self)
                                            for name, settings in config.connectors.items()}
        self.sources: dict[str, Source] = {name: REGISTRY.source_types[settings.type].build(name, settings, self)  # type: ignore[attr-defined]
                                           for name, settings in config.sources.items()}
        for name, connector in self._connectors.items():
            self.sources.update(getattr(connector, "sources", dict)())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], migrate: bool = True) -> "Runtime":
        return cls(load_config(path), migrate=migrate)

    def _store_url(self) -> str:
        url = self.config.settings.store.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            # A relative SQLite path is relative to config.yaml, not to wherever the command ran.
            url = prefix + str((self.config.base_dir / url[len(prefix):]).resolve())
        return url

    def connector(self, name: str) -> Any:
        try:
            return self._connectors[name]
        except KeyError:
            raise KeyError(f"connector {name!r} is not configured (add it under `connectors:` in {self.config.file})") from None

    def prepare(self, event: Claimed) -> dict[str, Any] | None:
        """Context for rules: the base, plus what the event's connector reads back and compares."""
        connector = self._connectors.get(event.source)
        context = base_context(event)
        if event.source in ("timer", "review"):
            context[event.source] = event.payload
        if connector is not None and hasattr(connector, "prepare"):
            extra = connector.prepare(event)
            if extra is None:
                return None
            context.update(extra)
        return context

    def blueprints(self) -> list[Any]:
        """Flask blueprints the connectors contribute (calendar feeds, reports); the web app mounts them."""
        found: list[Any] = []
        for connector in self._connectors.values():
            found.extend(getattr(connector, "blueprints", list)())
        return found

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        jobs: list[tuple[float, Callable[[], object], str]] = []
        for connector in self._connectors.values():
            jobs.extend(getattr(connector, "periodic_jobs", list)())
        return jobs

    def close(self) -> None:
        for connector in self._connectors.values():
            close = getattr(connector, "close", None)
            if close:
                close()
        self.store.dispose()

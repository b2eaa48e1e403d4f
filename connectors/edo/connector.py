"""The EDO connector: Diadoc and SBIS pollers feeding the inbox (source `edo`), and the document in
the rule context (`document.status`, `document.id`, `document.number`, ...)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from connectors.edo.diadoc import DiadocPoller
from connectors.edo.sbis import SbisPoller
from connectors.edo.settings import EdoSettings
from relay.inbox import Claimed
from relay.intake.base import IncomingEvent
from relay.store import utcnow
from relay.store.schema import Cursor

if TYPE_CHECKING:
    from relay.runtime import Runtime

MSK = timezone(timedelta(hours=3), "MSK")  # SBIS dates are Moscow time


class EdoConnector:
    name = "edo"

    def __init__(self, settings: EdoSettings, runtime: "Runtime") -> None:
        self.settings = settings
        self.runtime = runtime
        self.diadoc = DiadocPoller(settings.diadoc, self._cursor, self._store) if settings.diadoc else None
        self.sbis = SbisPoller(settings.sbis, self._cursor, self._store, lambda: datetime.now(MSK)) if settings.sbis else None

    def _cursor(self, name: str) -> str | None:
        with self.runtime.store.session() as s:
            row = s.get(Cursor, name)
            return row.value if row else None

    def _store(self, events: list[IncomingEvent], cursor: str, value: str) -> None:
        """Events first, then the cursor: a crash between them repeats events the inbox already holds."""
        if events:
            self.runtime.inbox.add(self.name, events)
        with self.runtime.store.session() as s:
            s.merge(Cursor(name=cursor, value=value, updated_at=utcnow()))

    def prepare(self, event: Claimed) -> dict[str, Any]:
        return {"document": dict(event.payload)}

    def periodic_jobs(self) -> list[tuple[float, Callable[[], object], str]]:
        jobs: list[tuple[float, Callable[[], object], str]] = []
        if self.diadoc and self.settings.diadoc and self.settings.diadoc.poll_interval_seconds:
            jobs.append((self.settings.diadoc.poll_interval_seconds, self.diadoc.poll, "edo-diadoc-events"))
        if self.sbis and self.settings.sbis and self.settings.sbis.poll_interval_seconds:
            jobs.append((self.settings.sbis.poll_interval_seconds, self.sbis.poll, "edo-sbis-changes"))
        return jobs

    def close(self) -> None:
        for poller in (self.diadoc, self.sbis):
            if poller is not None:
                poller.close()

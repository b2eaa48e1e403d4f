"""Group commit for intake: concurrent requests share one transaction.

Every request must be stored before its 200, and a store has one writer at a time (SQLite) or pays a
commit per transaction (PostgreSQL). One writer thread takes everything queued, stores it in one
transaction and wakes each request with its own outcome: throughput grows with concurrency while a
lone request still commits at once.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Sequence

from relay.inbox import insert_batches
from relay.intake.base import IncomingEvent
from relay.intake.sqlite_insert import SqliteInserter
from relay.store import Store

MAX_BATCH = 500


@dataclass
class _Pending:
    source: str
    events: Sequence[IncomingEvent]
    done: threading.Event = field(default_factory=threading.Event)
    stored: int = 0
    error: BaseException | None = None


class GroupWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: "queue.Queue[_Pending]" = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._sqlite = SqliteInserter(store) if store.engine.dialect.name == "sqlite" else None

    def add(self, source: str, events: Sequence[IncomingEvent], timeout: float = 30.0) -> tuple[int, int]:
        """Store events durably; returns (stored, duplicates). Raises what the store raised."""
        if not events:
            return 0, 0
        self._ensure_thread()
        item = _Pending(source, events)
        self._queue.put(item)
        if not item.done.wait(timeout):
            raise TimeoutError("the store did not confirm the write in time")
        if item.error is not None:
            raise item.error
        return item.stored, len(events) - item.stored

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="relay-intake-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=1.0)]
            except queue.Empty:
                if self._sqlite is not None:
                    self._sqlite.release()
                continue
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                counts = self._insert([(item.source, item.events) for item in batch])
                for item, stored in zip(batch, counts):
                    item.stored = stored
            except BaseException as exc:  # every waiter must hear about the failure, whatever it is
                for item in batch:
                    item.error, item.stored = exc, 0
            for item in batch:
                item.done.set()

    def _insert(self, batches: list[tuple[str, Sequence[IncomingEvent]]]) -> list[int]:
        if self._sqlite is not None:
            return self._sqlite.insert(batches)
        with self.store.transaction() as conn:
            return insert_batches(conn, self.store, batches)

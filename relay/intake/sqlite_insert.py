"""The intake's group commit on SQLite, straight through the sqlite3 module.

The same rows as `relay.inbox.insert_batches` writes through SQLAlchemy Core, encoded by the columns'
own bind processors (so the stored text is identical), but on one connection the writer thread keeps:
no pool checkout, no statement compilation, no per-row parameter bookkeeping. On the intake path that
is about a third of the relay's CPU per request (docs/BENCHMARKS.md).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from relay.inbox import credit, insert_repeat
from relay.intake.base import IncomingEvent
from relay.store import Store, utcnow
from relay.store.schema import InboxEvent

COLUMNS = ("source", "kind", "entity_key", "idem_key", "payload", "received_at", "status", "attempts", "next_attempt_at")
TABLE = InboxEvent.__tablename__
# SQLite's limit of bound parameters per statement is 32,766 since 3.32; stay far below it.
ROWS_PER_STATEMENT = 500


class SqliteInserter:
    """Inserts batches on a connection of its own, under the store's in-process writer lock."""

    def __init__(self, store: Store) -> None:
        self.store = store
        dialect = store.engine.dialect
        table = InboxEvent.__table__
        identity: Callable[[Any], Any] = lambda value: value  # noqa: E731
        self._encode = [table.c[name].type.bind_processor(dialect) or identity for name in COLUMNS]
        self._raw: Any = None
        self._sql: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        if rows not in self._sql:
            one = "(" + ",".join("?" * len(COLUMNS)) + ")"
            self._sql[rows] = (f"INSERT INTO {TABLE} ({','.join(COLUMNS)}) VALUES {','.join([one] * rows)} "
                               "ON CONFLICT (source, idem_key) DO NOTHING RETURNING source, idem_key")
        return self._sql[rows]

    def _row(self, source: str, e: IncomingEvent, now: Any, idem_key: str) -> list[Any]:
        values = (source, e.kind[:128], e.entity_key[:255], idem_key, e.payload, now, "pending", 0, now)
        return [encode(value) for encode, value in zip(self._encode, values)]

    def insert(self, batches: Sequence[tuple[str, Sequence[IncomingEvent]]]) -> list[int]:
        """Like `insert_batches`, in a transaction of its own; returns how many of each batch were stored."""
        now = utcnow()
        rows = [(source, e, e.idem_key[:240]) for source, events in batches for e in events]
        with self.store.writer_lock:
            cursor = self._connection().cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                fresh: set[tuple[str, str]] = set()
                for start in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[start:start + ROWS_PER_STATEMENT]
                    params = [value for source, e, key in chunk for value in self._row(source, e, now, key)]
                    fresh.update(cursor.execute(self._statement(len(chunk)), params).fetchall())

                def repeat(source: str, e: IncomingEvent) -> int:
                    return insert_repeat(e, waiting=lambda key: self._waiting(cursor, source, key),
                                         insert=lambda key: bool(cursor.execute(self._statement(1), self._row(source, e, now, key)).fetchall()))
                counts = credit(batches, fresh, repeat)
                cursor.execute("COMMIT")
            except BaseException:
                self._abandon(cursor)
                raise
            cursor.close()
        return counts

    def _abandon(self, cursor: Any) -> None:
        """After a failure the connection may be unusable (a full disk, a broken file): roll back if
        it still can, and start the next batch on a fresh connection."""
        try:
            cursor.execute("ROLLBACK")
        except Exception:  # the failure being raised says more than this one
            pass
        self.release()

    @staticmethod
    def _waiting(cursor: Any, source: str, idem_key: str) -> bool:
        row = cursor.execute(f"SELECT status FROM {TABLE} WHERE source = ? AND idem_key = ?", (source, idem_key)).fetchone()
        return row is not None and row[0] == "pending"

    def _connection(self) -> Any:
        if self._raw is None:
            self._raw = self.store.engine.raw_connection()  # set up by the engine: WAL, no implicit BEGIN
        return self._raw.driver_connection

    def release(self) -> None:
        """Give the connection back while intake is idle (a store being disposed must not find it held)."""
        if self._raw is not None:
            raw, self._raw = self._raw, None
            raw.close()

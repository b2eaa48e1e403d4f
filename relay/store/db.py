"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL (scale-out)."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=20, max_overflow=20)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so every transaction can start IMMEDIATE:
        # a read that later writes would otherwise fail with "database is locked" instead of waiting.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # Checkpoints copy the WAL into the database and fsync; run inside a commit they stall
        # every writer behind it. The Store's checkpointer thread does them on the side instead.
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


class Store:
    """Owns the engine; hands out short transactions. Every component shares one Store."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Threads of one process queue on this lock instead of on
        # SQLite's busy handler, whose sleeps (up to 100 ms each) would dominate latency under load.
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._stop = threading.Event()
        if self._writer is not None and ":memory:" not in url:
            threading.Thread(target=self._checkpoint_loop, name="relay-sqlite-checkpoint", daemon=True).start()

    @property
    def writer_lock(self) -> threading.Lock:
        """SQLite's one writer, within this process; hold it for any write outside `session`/`transaction`."""
        assert self._writer is not None, "only a SQLite store has an in-process writer lock"
        return self._writer

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception."""
        if self._writer is None:
            with self._sessions() as session, session.begin():
                yield session
            return
        with self._writer, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in one transaction, for hot paths where the ORM's bookkeeping costs too much."""
        if self._writer is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._writer, self.engine.begin() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to run on every start)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection_url"] = self.url
        with self.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            if self.is_postgres:
                # Two processes starting together must not both create the tables.
                conn.execute(text("SELECT pg_advisory_lock(727001)"))
            try:
                command.upgrade(cfg, "head")
            finally:
                if self.is_postgres:
                    conn.execute(text("SELECT pg_advisory_unlock(727001)"))
                conn.commit()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints never block readers or writers; a busy moment just defers the work."""
        while not self._stop.wait(1.0):
            try:
                raw = self.engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
                finally:
                    raw.close()
            except Exception:  # a failed checkpoint only means the WAL stays longer; try next time
                continue

    def dispose(self) -> None:
        self._stop.set()
        self.engine.dispose()

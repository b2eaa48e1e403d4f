"""The sandbox's store starts empty, because its emulators start from their seeds again.

The emulators keep their state in memory; a relay store kept from an earlier sandbox would hold
snapshots, links and effects of deals, chats and transactions that no longer exist (and the new
ones reuse their ids). So each start empties the store — but only a store that a sandbox marked
as its own, or one that is empty: a store holding anything else (a live relay's) is refused.
"""
from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.engine import make_url

from relay.config.loader import LoadedConfig
from relay.store import Store, utcnow
from relay.store.schema import Base, Cursor

MARKER = "sandbox.store"  # a row in `cursors`: this store belongs to the sandbox (and whether it is wired yet)
STARTING, READY = "starting", "ready"


def store_url(config: LoadedConfig) -> str:
    """The store URL as the relay resolves it: a relative SQLite path is relative to config.yaml."""
    url, prefix = config.settings.store.url, "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((config.base_dir / url[len(prefix):]).resolve())
    return url


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


class ForeignStore(Exception):
    """The configured store holds data the sandbox did not write."""


def empty_for_sandbox(url: str) -> None:
    """Migrate, empty and mark the store at `url`; raises ForeignStore for a store with other data."""
    store = Store(url)
    try:
        store.migrate()
        with store.session() as s:
            tables = Base.metadata.sorted_tables
            used = any(s.execute(select(literal(1)).select_from(table).limit(1)).first() for table in tables)
            if used and s.get(Cursor, MARKER) is None:
                raise ForeignStore("it holds data no sandbox wrote (a live relay's?)")
            for table in reversed(tables):
                s.execute(table.delete())
            s.add(Cursor(name=MARKER, value=STARTING, updated_at=utcnow()))
    finally:
        store.dispose()


def mark_ready(store: Store, relay: str) -> None:
    """Every emulator is wired to the relay at `relay`: a demo in another process may begin."""
    with store.session() as s:
        s.merge(Cursor(name=MARKER, value=f"{READY} {relay}", updated_at=utcnow()))


def is_ready(store: Store) -> bool:
    with store.session() as s:
        row = s.get(Cursor, MARKER)
        return row is not None and row.value.startswith(READY)

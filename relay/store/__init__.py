"""The store: one database (SQLite file or PostgreSQL) holding everything the relay must not lose."""
from relay.store.db import Store, utcnow

__all__ = ["Store", "utcnow"]

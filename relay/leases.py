"""Named leases in the store: exactly one holder at a time across processes and hosts."""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

from sqlalchemy.exc import IntegrityError

from relay.errors import TransientError
from relay.store import Store, utcnow
from relay.store.schema import Lease


def acquire(store: Store, name: str, holder: str, seconds: float) -> bool:
    """Take or extend the lease; True while `holder` has it."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    try:
        with store.session() as s:
            lease = s.get(Lease, name, with_for_update=store.is_postgres)
            if lease is None:
                s.add(Lease(name=name, holder=holder, expires_at=until))
                return True
            if lease.holder == holder or lease.expires_at <= now:
                lease.holder, lease.expires_at = holder, until
                return True
            return False
    except IntegrityError:  # another process inserted it first
        return False


def release(store: Store, name: str, holder: str) -> None:
    with store.session() as s:
        lease = s.get(Lease, name)
        if lease is not None and lease.holder == holder:
            s.delete(lease)


@contextmanager
def exclusive(store: Store, name: str, busy: str, wait_seconds: float = 5.0, lease_seconds: float = 60.0) -> Iterator[None]:
    """Hold `name` while a read-compute-write runs, so two events never write a stale result over a
    fresh one. Another holder makes this wait a little, then the event is retried later with the
    `busy` reason (TransientError)."""
    name = name[:128]
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait_seconds
    while not acquire(store, name, holder, lease_seconds):
        if time.monotonic() >= deadline:
            raise TransientError(busy, retry_after=1.0)
        time.sleep(0.05)
    try:
        yield
    finally:
        release(store, name, holder)

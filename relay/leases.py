"""Named leases in the store: exactly one holder at a time across processes and hosts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

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

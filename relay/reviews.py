"""The review list: what the relay could not decide alone waits here for an admin.

An item is opened once per (kind, subject) — a payment that matched no deal, a brief that matched no
task. Resolving it records the admin's decision and, in the same transaction, queues a `review` event
of kind `<kind>.resolved`, so the rules apply the decision with the inbox's retries, trace and effects
(a resolution is never applied half-way, nor twice).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select

from relay.inbox import insert_events
from relay.intake.base import IncomingEvent
from relay.store import Store, utcnow
from relay.store.schema import ReviewItem

REVIEW_SOURCE = "review"


class ReviewError(ValueError):
    """A review item that is missing or no longer open; the message says which."""


@dataclass(frozen=True)
class Review:
    id: int
    kind: str
    subject: str
    reason: str
    payload: dict[str, Any]
    candidates: list[dict[str, Any]]
    status: str
    resolution: dict[str, Any] | None
    resolved_by: str | None
    opened_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, row: ReviewItem) -> "Review":
        return cls(row.id, row.kind, row.subject, row.reason, row.payload, list(row.candidates), row.status,
                   row.resolution, row.resolved_by, row.opened_at, row.resolved_at)


class Reviews:
    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, kind: str, subject: str, reason: str, payload: dict[str, Any],
             candidates: Sequence[dict[str, Any]] = ()) -> Review:
        """Open the item, or refresh the reason and candidates of the open one; a decided item stays decided."""
        with self.store.session() as s:
            row = s.scalar(select(ReviewItem).where(ReviewItem.kind == kind, ReviewItem.subject == subject))
            if row is None:
                row = ReviewItem(kind=kind, subject=subject, reason=reason, payload=payload, candidates=list(candidates),
                                 status="open", opened_at=utcnow())
                s.add(row)
            elif row.status == "open":
                row.reason, row.payload, row.candidates = reason, payload, list(candidates)
            s.flush()
            return Review.of(row)

    def find(self, kind: str, subject: str) -> Review | None:
        with self.store.session() as s:
            row = s.scalar(select(ReviewItem).where(ReviewItem.kind == kind, ReviewItem.subject == subject))
            return Review.of(row) if row else None

    def get(self, item_id: int) -> Review | None:
        with self.store.session() as s:
            row = s.get(ReviewItem, item_id)
            return Review.of(row) if row else None

    def list(self, kind: str | None = None, status: str | None = "open", limit: int = 200) -> list[Review]:
        query = select(ReviewItem).order_by(ReviewItem.opened_at, ReviewItem.id).limit(limit)
        if kind:
            query = query.where(ReviewItem.kind == kind)
        if status:
            query = query.where(ReviewItem.status == status)
        with self.store.session() as s:
            return [Review.of(row) for row in s.scalars(query)]

    def counts(self) -> dict[str, int]:
        """Open items per kind (dashboard)."""
        counts: dict[str, int] = {}
        for item in self.list(status="open", limit=100_000):
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts

    def resolve(self, item_id: int, resolution: dict[str, Any], by: str) -> Review:
        """Record the decision and queue `<kind>.resolved` for the rules, in one transaction."""
        with self.store.session() as s:
            row = self._open_row(s, item_id)
            row.status, row.resolution, row.resolved_by, row.resolved_at = "resolved", resolution, by, utcnow()
            event = IncomingEvent(kind=f"{row.kind}.resolved", entity_key=row.subject, idem_key=f"review:{row.id}",
                                  payload={"review_id": row.id, "kind": row.kind, "subject": row.subject,
                                           "resolution": resolution, "resolved_by": by, "item": row.payload})
            insert_events(s, self.store, REVIEW_SOURCE, [event])
            s.flush()
            return Review.of(row)

    def dismiss(self, item_id: int, by: str, note: str = "") -> Review:
        """Close without action (e.g. a refund that belongs to no deal)."""
        with self.store.session() as s:
            row = self._open_row(s, item_id)
            row.status, row.resolution, row.resolved_by, row.resolved_at = "dismissed", {"note": note}, by, utcnow()
            s.flush()
            return Review.of(row)

    def settle(self, kind: str, subject: str, resolution: dict[str, Any], by: str = "relay") -> bool:
        """Close an open item that resolved itself (the payment matched after all); queues nothing."""
        with self.store.session() as s:
            row = s.scalar(select(ReviewItem).where(ReviewItem.kind == kind, ReviewItem.subject == subject,
                                                    ReviewItem.status == "open"))
            if row is None:
                return False
            row.status, row.resolution, row.resolved_by, row.resolved_at = "resolved", resolution, by, utcnow()
            return True

    @staticmethod
    def _open_row(s: Any, item_id: int) -> ReviewItem:
        row = s.get(ReviewItem, item_id, with_for_update=True)  # two admins clicking at once: one wins
        if row is None:
            raise ReviewError(f"review item {item_id} does not exist")
        if row.status != "open":
            raise ReviewError(f"review item {item_id} is already {row.status} (by {row.resolved_by}); nothing changed")
        return row

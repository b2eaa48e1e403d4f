"""/admin/reviews: what the relay could not decide alone (unmatched payments, forms without a task).

Every kind of item is listed with its candidates. Resolving records `{<key>: <chosen id>}` — the key
is the item's `payload.resolve_key` (a payment: `deal`), else `id` — and queues `<kind>.resolved` for
the rules; a kind may register a check that refuses a choice its rule could not apply (a deal that
does not exist), so the item stays open instead of failing later. Dismissing closes with a note.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from relay.payments.review import KIND as PAYMENT, check_resolution as check_payment
from relay.reviews import Review, ReviewError
from relay.store.schema import ReviewItem

if TYPE_CHECKING:
    from relay.runtime import Runtime

Check = Callable[["Runtime", Review, dict[str, Any]], "str | None"]
CHECKS: dict[str, Check] = {PAYMENT: check_payment}
STATUSES = ("open", "resolved", "dismissed")


def register_review_check(kind: str, check: Check) -> None:
    """Refuse resolutions of `kind` that its rule could not apply (the message is shown to the admin)."""
    CHECKS[kind] = check


def open_counts(runtime: "Runtime") -> dict[str, int]:
    """Open items per kind, counted in SQL (the nav shows it on every page)."""
    query = select(ReviewItem.kind, func.count()).where(ReviewItem.status == "open").group_by(ReviewItem.kind)
    with runtime.store.session() as s:
        return {kind: int(n) for kind, n in s.execute(query)}


def add_review_routes(bp: Blueprint, runtime: "Runtime", guard: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    @bp.context_processor
    def review_count() -> dict[str, Any]:
        return {"open_reviews": lambda: sum(open_counts(runtime).values())}

    @bp.get("/reviews")
    @guard
    def reviews() -> str:
        status = request.args.get("status", "open")
        status = status if status in STATUSES else "open"
        kind = request.args.get("kind", "").strip()
        items = runtime.reviews.list(kind or None, status, limit=500)
        return render_template("admin/reviews.html", items=items, status=status, kind=kind, statuses=STATUSES,
                               counts=open_counts(runtime))

    @bp.post("/reviews/<int:item_id>/resolve")
    @guard
    def resolve_review(item_id: int) -> Response:
        item = runtime.reviews.get(item_id)
        if item is None:
            abort(404, description=f"no review item {item_id}")
        typed = request.form.get("typed", "").strip()
        chosen = typed or request.form.get("choice", "").strip()
        if not chosen:
            flash(f"Item {item_id}: choose a candidate or type an id / выберите вариант или введите id")
            return redirect(url_for("admin.reviews"))
        resolution: dict[str, Any] = {str(item.payload.get("resolve_key") or "id"): chosen}
        note = request.form.get("note", "").strip()
        if note:
            resolution["note"] = note
        check = CHECKS.get(item.kind)
        problem = check(runtime, item, resolution) if check else None
        if problem:
            flash(f"Item {item_id} not resolved: {problem}")
            return redirect(url_for("admin.reviews"))
        try:
            runtime.reviews.resolve(item_id, resolution, by="admin")
        except ReviewError as exc:
            flash(str(exc))
            return redirect(url_for("admin.reviews"))
        flash(f"Item {item_id} resolved: {resolution} / решено; the rules apply it now")
        return redirect(url_for("admin.reviews"))

    @bp.post("/reviews/<int:item_id>/dismiss")
    @guard
    def dismiss_review(item_id: int) -> Response:
        try:
            runtime.reviews.dismiss(item_id, by="admin", note=request.form.get("note", "").strip())
        except ReviewError as exc:
            flash(str(exc))
            return redirect(url_for("admin.reviews"))
        flash(f"Item {item_id} dismissed / закрыто без действия")
        return redirect(url_for("admin.reviews"))

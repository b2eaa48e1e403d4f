"""Routes of the admin UI. Each view asks `queries` and renders one template; POSTs redirect back
(post/redirect/get) so a reload never repeats a retry or a cancel."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from relay.redact import REDACTOR
from relay.web.admin import queries as q
from relay.web.admin.auth import check_csrf, csrf_token, logged_in, login_required, safe_next
from relay.web.admin.throttle import LoginOutcome, LoginThrottle
from relay.web.admin.reviews import add_review_routes
from relay.worker import live_workers

if TYPE_CHECKING:
    from relay.config.models import AdminConfig
    from relay.runtime import Runtime

STATUSES = ("pending", "processing", "done", "dead")
TIMER_STATUSES = ("pending", "fired", "cancelled")


def build_blueprint(runtime: "Runtime") -> Blueprint:
    bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                   static_folder="static", static_url_path="/static")

    def admin() -> "AdminConfig | None":
        return runtime.config.settings.admin

    guard = login_required(admin)

    @bp.before_request
    def gate() -> None:
        """Off means 404 for every admin URL, static files included; every POST needs the token."""
        if admin() is None:
            abort(404)
        if request.method == "POST":
            check_csrf()

    @bp.context_processor
    def helpers() -> dict[str, Any]:
        return {"csrf_token": csrf_token, "pretty": q.pretty, "redact": REDACTOR.value,
                "authed": logged_in(admin()) if admin() else False}

    @bp.app_template_filter("when")
    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        config = admin()
        assert config is not None
        outcome = LoginOutcome(False)
        if request.method == "POST":
            outcome = LoginThrottle(runtime.store, config).login(request.form.get("password", ""))
            if outcome.ok:
                return redirect(safe_next(request.form.get("next")))
            session.pop("user", None)
        page = render_template("admin/login.html", error=outcome.error or None, next=request.values.get("next", ""))
        headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else {}
        return page, outcome.status, headers

    @bp.post("/logout")
    def logout() -> Response:
        session.clear()
        return redirect(url_for("admin.login"))

    @bp.get("/")
    @guard
    def dashboard() -> str:
        oldest = runtime.inbox.oldest_pending_age()
        within = max(15.0, runtime.config.settings.worker.lease_seconds)
        return render_template("admin/dashboard.html", chart=q.hourly_chart(runtime), depth=runtime.inbox.depth(),
                               dead=q.dead_letter_count(runtime), oldest=oldest, workers=live_workers(runtime, within),
                               statuses=STATUSES)

    @bp.get("/events")
    @guard
    def events() -> str:
        a = request.args
        f = q.EventFilter(status=a.get("status", ""), source=a.get("source", ""), kind=a.get("kind", "").strip(),
                          q=a.get("q", "").strip(), page=a.get("page", 1, type=int) or 1)
        rows, more = q.list_events(runtime, f)
        args = {k: v for k, v in vars(f).items() if v and k != "page"}
        return render_template("admin/events.html", rows=rows, more=more, f=f, args=args,
                               statuses=STATUSES, sources=q.known_sources(runtime))

    @bp.get("/events/<int:event_id>")
    @guard
    def event(event_id: int) -> str:
        detail = q.event_detail(runtime, event_id)
        if detail is None:
            abort(404, description=f"no event {event_id}")
        return render_template("admin/event.html", d=detail, e=detail.event)

    @bp.get("/entity")
    @guard
    def entity() -> str:
        key = request.args.get("key", "").strip()
        history = q.entity_history(runtime, key) if key else None
        return render_template("admin/entity.html", key=key, h=history)

    @bp.get("/dead")
    @guard
    def dead() -> str:
        return render_template("admin/dead.html", rows=q.open_dead_letters(runtime))

    @bp.post("/dead/<int:event_id>/retry")
    @guard
    def retry(event_id: int) -> Response:
        count = runtime.inbox.replay([event_id])
        flash(f"Event {event_id} queued again / поставлено в очередь" if count else f"Event {event_id} was not queued (running or missing)")
        return redirect(request.form.get("back") == "event" and url_for("admin.event", event_id=event_id) or url_for("admin.dead"))

    @bp.get("/timers")
    @guard
    def timers() -> str:
        status = request.args.get("status", "pending")
        status = status if status in TIMER_STATUSES or status == "" else "pending"
        return render_template("admin/timers.html", rows=runtime.timers.list(status or None, limit=500),
                               status=status, statuses=TIMER_STATUSES)

    @bp.post("/timers/<int:timer_id>/cancel")
    @guard
    def cancel_timer(timer_id: int) -> Response:
        count = runtime.timers.cancel(timer_id=timer_id)
        flash(f"Timer {timer_id} cancelled / отменён" if count else f"Timer {timer_id} was not pending; nothing changed")
        return redirect(url_for("admin.timers"))

    @bp.get("/rules")
    @guard
    def rules() -> str:
        from relay.tooling.lint import lint_config  # the same lint `app.py check` prints
        return render_template("admin/rules.html", rules=runtime.config.rules, lint=lint_config(runtime.config).problems)

    add_review_routes(bp, runtime, guard)  # /admin/reviews
    return bp

"""Login, logout, session cookie settings and CSRF tokens for the admin UI.

CSRF is a per-session random token checked on every POST with a constant-time comparison; it needs
no extra library. The session remembers a fingerprint of the password hash, so changing the password
logs every open session out.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, Response, abort, redirect, request, session, url_for
from werkzeug.security import check_password_hash

from relay.config.models import AdminConfig

SESSION_COOKIE = "relay_admin"


# Admin pages show payloads and traces: never framed by another site, never kept in shared caches.
ADMIN_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def configure_session(app: Flask, admin: AdminConfig) -> None:
    """Cookie hardening: HttpOnly, SameSite=Lax, Secure when asked, scoped to /admin."""
    app.secret_key = admin.secret_key.get_secret_value()
    app.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=admin.secure_cookie,
                      SESSION_COOKIE_PATH="/admin",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=admin.session_hours))

    @app.after_request
    def admin_headers(response: Response) -> Response:
        if request.path.startswith("/admin"):
            for name, value in ADMIN_HEADERS.items():
                response.headers.setdefault(name, value)
        return response


def _fingerprint(admin: AdminConfig) -> str:
    return hashlib.sha256(admin.password_hash.get_secret_value().encode()).hexdigest()[:16]


def csrf_token() -> str:
    """The session's CSRF token, created on first use (templates call this in every form)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Abort with 400 unless the POSTed form carries this session's token."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    # Bytes, not str: compare_digest refuses non-ASCII str, and a forged token may hold anything.
    if not sent or not expected or not hmac.compare_digest(str(sent).encode(), str(expected).encode()):
        abort(400, description="missing or wrong CSRF token; reload the page and try again")


def try_login(admin: AdminConfig, password: str) -> bool:
    """Check the password; on success start a fresh session (new CSRF token, nothing carried over)."""
    if not password or not check_password_hash(admin.password_hash.get_secret_value(), password):
        return False
    session.clear()
    session.permanent = True
    session["user"] = "admin"
    session["pw"] = _fingerprint(admin)
    csrf_token()
    return True


def logged_in(admin: AdminConfig) -> bool:
    return session.get("user") == "admin" and session.get("pw") == _fingerprint(admin)


def safe_next(target: str | None) -> str:
    """Only local /admin paths: a login link must not bounce the admin to another site."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.dashboard")


def login_required(get_admin: Callable[[], AdminConfig | None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: 404 when the UI is off, a redirect to the login page when not logged in."""
    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            admin = get_admin()
            if admin is None:
                abort(404)
            if not logged_in(admin):
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)
        return inner
    return wrap

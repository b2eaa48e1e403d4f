"""Failed-login limits for /admin/login, per client address and per account, kept in the store.

The limit is checked before the password is, so a blocked address costs no password hashing; the
answer is 429 with Retry-After. The only account is `admin` (the UI has one password), so its
limit is the one every address shares, and is set higher than an address's: spending it locks
the admin out for the window, which is the price of slowing a guesser with many addresses.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from relay.config.models import AdminConfig, LoginLimitConfig
from relay.ratelimit import FailureLimit
from relay.store import Store
from relay.web.admin.auth import try_login

log = logging.getLogger("relay.admin")
ACCOUNT = "admin"


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    status: int = 200
    error: str = ""
    retry_after: int = 0  # seconds, for the Retry-After header of a 429


def client_address(limits: LoginLimitConfig) -> str:
    """The address failures are counted by: the TCP peer, or what the configured proxy header says.

    X-Forwarded-For may hold addresses the client itself wrote; only the last one was added by
    the proxy in front of the relay, so only that one is trusted."""
    if limits.address_header:
        value = request.headers.get(limits.address_header, "")
        forwarded = value.split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote_addr or "unknown"


class LoginThrottle:
    def __init__(self, store: Store, admin: AdminConfig) -> None:
        self.admin = admin
        limits = admin.login_limit
        self.limits = limits
        self.failures = FailureLimit(store, "admin-login", {"address": limits.per_address, "user": limits.per_user},
                                     timedelta(minutes=limits.window_minutes))

    def login(self, password: str) -> LoginOutcome:
        """Check the limits, then the password; a success clears the failures it was counted against."""
        address = client_address(self.limits)
        keys = {"address": address, "user": ACCOUNT}
        try:
            attempt = self.failures.attempt(keys)
            if not attempt.allowed:
                log.warning("admin login refused: too many failures (%s %s), retry in %ss", attempt.blocked_by,
                            address if attempt.blocked_by == "address" else ACCOUNT, attempt.retry_after)
                minutes = max(1, math.ceil(attempt.retry_after / 60))
                return LoginOutcome(False, 429, f"Too many failed logins; try again in {minutes} min / "
                                                f"Слишком много неудачных попыток, повторите через {minutes} мин",
                                    attempt.retry_after)
            if try_login(self.admin, password):
                self.failures.succeeded(keys)
                log.info("admin logged in from %s", address)
                return LoginOutcome(True)
        except SQLAlchemyError as exc:  # without the store no limit can be kept: refuse rather than let guesses through
            log.error("admin login unavailable, the store failed: %s", type(exc).__name__)
            return LoginOutcome(False, 503, "Login is unavailable: the relay cannot reach its store / Вход недоступен")
        log.info("failed admin login from %s", address)
        return LoginOutcome(False, 401, "Wrong password / Неверный пароль")

"""Failed admin logins are limited per client address and per account, counted in the store: over
HTTP against real relays (one of them a separate `app.py web` process), and once in the browser."""
from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from relay.ratelimit import FailureLimit
from relay.store import Store, utcnow
from tests.e2e.conftest import ADMIN, PASSWORD, Site, _running, build_site, csrf_from
from tests.support.process import free_port, start_relay, wait_for

LIMITED = ADMIN + """\
  login_limit: {per_address: 3, per_user: 5, address_header: X-Real-IP}
"""


@pytest.fixture
def limited(db_url: str, write_config: Callable[..., Path]) -> Iterator[Site]:
    built = build_site(db_url, write_config, admin=LIMITED)
    yield built
    built.server.stop()
    built.runtime.close()


def attempt(url: str, password: str, address: str = "", http: requests.Session | None = None) -> requests.Response:
    http = http or requests.Session()
    headers = {"X-Real-IP": address} if address else {}
    token = csrf_from(http.get(f"{url}/admin/login", headers=headers, timeout=10).text)
    return http.post(f"{url}/admin/login", data={"csrf_token": token, "password": password}, headers=headers,
                     allow_redirects=False, timeout=10)


def test_five_failures_from_one_address_then_429_with_retry_after(site: Site) -> None:
    """The default limit: 5 failures per address in 15 minutes; then even the right password waits."""
    for n in range(5):
        assert attempt(site.url, f"guess {n}").status_code == 401, n
    blocked = attempt(site.url, "guess 6")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed logins" in blocked.text and 'type="password"' in blocked.text
    assert blocked.headers["X-Frame-Options"] == "DENY" and blocked.headers["Cache-Control"] == "no-store"
    http = requests.Session()
    right = attempt(site.url, PASSWORD, http=http)
    assert right.status_code == 429
    assert http.get(f"{site.url}/admin/", allow_redirects=False, timeout=10).status_code == 302


def test_the_count_is_shared_with_another_process(limited: Site, tmp_path: Path) -> None:
    """A second relay process (`app.py web`) on the same store sees the failures the first one counted."""
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("web:\n  port: 0", f"web:\n  port: {port}"), encoding="utf-8")
    env = {"RELAY_ADMIN_PASSWORD_HASH": generate_password_hash(PASSWORD), "RELAY_ADMIN_SECRET_KEY": os.urandom(16).hex()}
    other = start_relay(config, "web", env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(url), seconds=30, what="the second relay process")
        assert attempt(limited.url, "one", "198.51.100.7").status_code == 401
        assert attempt(url, "two", "198.51.100.7").status_code == 401
        assert attempt(limited.url, "three", "198.51.100.7").status_code == 401
        assert attempt(url, "four", "198.51.100.7").status_code == 429
        assert attempt(url, PASSWORD, "198.51.100.8").status_code == 302  # another address is not blocked
    finally:
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/admin/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_account_limit_holds_across_addresses_and_success_clears(limited: Site) -> None:
    # Two failures from one address, then the admin logs in from it: its failures are forgotten.
    assert [attempt(limited.url, "x", "192.0.2.1").status_code for _ in range(2)] == [401, 401]
    assert attempt(limited.url, PASSWORD, "192.0.2.1").status_code == 302
    assert [attempt(limited.url, "x", "192.0.2.1").status_code for _ in range(3)] == [401, 401, 401]
    assert attempt(limited.url, "x", "192.0.2.1").status_code == 429
    # A guesser spreading over addresses spends the account's 5, then every address waits.
    assert [attempt(limited.url, "x", f"192.0.2.{n}").status_code for n in (2, 3)] == [401, 401]
    blocked = attempt(limited.url, PASSWORD, "192.0.2.9")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_failures_run_out_after_the_window(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    limit = FailureLimit(store, "test-login", {"address": 2, "user": 10}, timedelta(minutes=15))
    keys = {"address": "10.0.0.1", "user": "admin"}
    start = utcnow()
    assert limit.attempt(keys, now=start).allowed
    assert limit.attempt(keys, now=start + timedelta(minutes=5)).allowed
    refused = limit.attempt(keys, now=start + timedelta(minutes=10))
    assert (refused.allowed, refused.blocked_by, refused.retry_after) == (False, "address", 5 * 60)
    assert limit.attempt(keys, now=start + timedelta(minutes=15, seconds=1)).allowed  # the first failure ran out
    assert limit.held("address", "10.0.0.1", now=start + timedelta(minutes=15, seconds=1)) == 2
    assert limit.held("user", "admin", now=start + timedelta(minutes=15, seconds=1)) == 2
    store.dispose()


@pytest.fixture
def limited_browser_site(tmp_path: Path, write_config: Callable[..., Path]) -> Iterator[Site]:
    yield from _running(f"sqlite:///{tmp_path / 'relay.db'}", write_config)


@pytest.mark.browser
def test_browser_sees_the_limit(limited_browser_site: Site, page: Any) -> None:
    page.goto(f"{limited_browser_site.url}/admin/login")
    for n in range(6):
        page.fill("input[name=password]", f"wrong {n}")
        page.get_by_role("button", name="Log in / Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")

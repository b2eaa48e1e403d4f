"""The admin UI's locks, checked over plain HTTP against a real relay: login, CSRF, redirects, 404 when off."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import requests
from sqlalchemy import select

from relay.store.schema import InboxEvent, Timer
from tests.e2e import switch_plugin
from tests.e2e.conftest import PASSWORD, Site, build_site, csrf_from

PAGES = ["/admin/", "/admin/events", "/admin/events?status=dead&q=deal", "/admin/events/1", "/admin/entity?key=bitrix24:deal:1",
         "/admin/dead", "/admin/timers", "/admin/rules"]


def login(site: Site) -> requests.Session:
    http = requests.Session()
    token = csrf_from(http.get(f"{site.url}/admin/login", timeout=10).text)
    answer = http.post(f"{site.url}/admin/login", data={"csrf_token": token, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200 and "Dashboard" in answer.text
    return http


def test_unauthenticated_pages_redirect_to_login(site: Site) -> None:
    for path in PAGES:
        answer = requests.get(site.url + path, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/admin/login?next=/admin"), path


def test_wrong_password_is_rejected_without_a_session(site: Site) -> None:
    http = requests.Session()
    token = csrf_from(http.get(f"{site.url}/admin/login", timeout=10).text)
    answer = http.post(f"{site.url}/admin/login", data={"csrf_token": token, "password": "guess"}, timeout=10)
    assert answer.status_code == 401
    assert "Wrong password" in answer.text and 'type="password"' in answer.text
    assert http.get(f"{site.url}/admin/", allow_redirects=False, timeout=10).status_code == 302


def test_login_without_csrf_token_is_refused(site: Site) -> None:
    answer = requests.post(f"{site.url}/admin/login", data={"password": PASSWORD}, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "relay_admin" not in answer.cookies


def test_every_page_renders_after_login_and_cookie_is_locked_down(site: Site) -> None:
    site.post(type="deal.won", entity="bitrix24:deal:1", id="evt-1", deal=1)
    site.work()
    http = requests.Session()
    token = csrf_from(http.get(f"{site.url}/admin/login", timeout=10).text)
    answer = http.post(f"{site.url}/admin/login", data={"csrf_token": token, "password": PASSWORD}, allow_redirects=False, timeout=10)
    cookie = answer.headers["Set-Cookie"]
    assert "relay_admin=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    for path in PAGES:
        assert http.get(site.url + path, timeout=10).status_code == 200, path
    assert "rule set-stage matched" in http.get(f"{site.url}/admin/events/1", timeout=10).text
    assert "stages-unused" in http.get(f"{site.url}/admin/rules", timeout=10).text  # the config warning


def test_post_without_csrf_token_is_400_and_changes_nothing(site: Site) -> None:
    switch_plugin.BROKEN["on"] = True
    site.post(type="deal.won", entity="bitrix24:deal:2", id="evt-2", deal=2)
    site.post(type="deal.new", entity="bitrix24:deal:3", id="evt-3", deal=3)
    site.work()
    http = login(site)
    with site.runtime.store.session() as s:
        dead_id = s.scalar(select(InboxEvent.id).where(InboxEvent.status == "dead"))
        timer_id = s.scalar(select(Timer.id))
    assert dead_id is not None and timer_id is not None
    for path in (f"/admin/dead/{dead_id}/retry", f"/admin/timers/{timer_id}/cancel"):
        assert http.post(site.url + path, data={}, timeout=10).status_code == 400, path
        assert http.post(site.url + path, data={"csrf_token": "forged"}, timeout=10).status_code == 400, path
    with site.runtime.store.session() as s:
        assert s.get(InboxEvent, dead_id).status == "dead"  # type: ignore[union-attr]
        assert s.get(Timer, timer_id).status == "pending"  # type: ignore[union-attr]


def test_logout_ends_the_session(site: Site) -> None:
    http = login(site)
    token = csrf_from(http.get(f"{site.url}/admin/", timeout=10).text)
    http.post(f"{site.url}/admin/logout", data={"csrf_token": token}, timeout=10)
    assert http.get(f"{site.url}/admin/events", allow_redirects=False, timeout=10).status_code == 302


def test_login_does_not_redirect_off_site(site: Site) -> None:
    http = requests.Session()
    token = csrf_from(http.get(f"{site.url}/admin/login", timeout=10).text)
    answer = http.post(f"{site.url}/admin/login", allow_redirects=False, timeout=10,
                       data={"csrf_token": token, "password": PASSWORD, "next": "//evil.example/admin"})
    assert answer.headers["Location"] == "/admin/"


@pytest.mark.parametrize("path", ["/admin/", "/admin/login", "/admin/events", "/admin/static/admin.css"])
def test_admin_not_configured_answers_404(path: str, tmp_path: Path, write_config: Callable[..., Path]) -> None:
    site = build_site(f"sqlite:///{tmp_path / 'relay.db'}", write_config, admin="plugins: [tests.e2e.switch_plugin]\n")
    try:
        assert requests.get(site.url + path, allow_redirects=False, timeout=10).status_code == 404
        assert requests.post(f"{site.url}/admin/login", data={"password": PASSWORD}, timeout=10).status_code == 404
    finally:
        site.server.stop()
        site.runtime.close()

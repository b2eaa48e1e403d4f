"""A real relay for the admin UI tests: a temp store, the real Flask app on a loopback port, signed
webhooks in, the real worker to process them, and (for browser tests) Debian's chromium."""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from werkzeug.security import generate_password_hash

from emulators.common.server import RunningServer, serve_in_thread
from relay.config import load_config
from relay.runtime import Runtime
from relay.web import create_app
from relay.worker import Worker
from tests.e2e import switch_plugin
from tests.support.relay import base_config, signed

PASSWORD = "correct horse 42"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "admin"
CHROMIUM = os.environ.get("RELAY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

ADMIN = """\
plugins: [tests.e2e.switch_plugin]
admin:
  password_hash: ${RELAY_ADMIN_PASSWORD_HASH}
  secret_key: ${RELAY_ADMIN_SECRET_KEY}
"""
RULES = """\
rules:
  - id: set-stage
    description: a won deal gets its stage written back
    when: {source: shop, kind: deal.won}
    do:
      - e2e_set_field: {target: "bitrix24:deal:{{ payload.deal }}", value: WON}
  - id: remind-later
    when: {source: shop, kind: deal.new}
    do:
      - start_timer: {kind: reminder, after: 2h, cancel_key: "deal-{{ payload.deal }}"}
"""
MAPPINGS = "mappings:\n  stages-unused:\n    stages: {NEW: C1:NEW}\n"


@dataclass
class Site:
    """One running relay: post webhooks, process them, look at the store."""

    runtime: Runtime
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    def post(self, **payload: Any) -> None:
        body, headers = signed(payload)
        answer = requests.post(f"{self.url}/hooks/shop", data=body, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text

    def work(self) -> int:
        return Worker(self.runtime, worker_id="e2e-worker").run_once()


def build_site(db_url: str, write_config: Callable[..., Path], admin: str = ADMIN) -> Site:
    config = write_config(base_config(db_url, admin), **{"rules__main.yaml": RULES, "mappings__main.yaml": MAPPINGS})
    environ = {**os.environ, "RELAY_ADMIN_PASSWORD_HASH": generate_password_hash(PASSWORD),
               "RELAY_ADMIN_SECRET_KEY": secrets.token_hex(24)}
    runtime = Runtime(load_config(config, environ=environ))
    return Site(runtime, serve_in_thread(create_app(runtime)))


@pytest.fixture
def site(db_url: str, write_config: Callable[..., Path]) -> Iterator[Site]:
    """On every store back end (the dashboard groups hours with each dialect's own function)."""
    yield from _running(db_url, write_config)


@pytest.fixture
def sqlite_site(tmp_path: Path, write_config: Callable[..., Path]) -> Iterator[Site]:
    """Browser tests run once, on SQLite: the back ends are covered by the HTTP tests."""
    yield from _running(f"sqlite:///{tmp_path / 'relay.db'}", write_config)


def _running(db_url: str, write_config: Callable[..., Path]) -> Iterator[Site]:
    built = build_site(db_url, write_config)
    switch_plugin.BROKEN["on"] = False
    try:
        yield built
    finally:
        switch_plugin.BROKEN["on"] = False
        built.server.stop()
        built.runtime.close()


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright. Missing under CI=true is a failure, not a skip.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main thread
    while it is open, which would break every later test that calls asyncio.run()."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; scripts/test.sh does it as root)"
        if os.environ.get("CI"):
            pytest.fail("CI=true but " + reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/admin/ for a human to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

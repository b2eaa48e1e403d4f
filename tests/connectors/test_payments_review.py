"""The review page /admin/reviews over real HTTP: a payment that matched nothing (or two deals) is
listed with its candidates, resolved by choosing one (CSRF-checked), and the rules apply it to the
emulated portal; a deal that does not exist is refused and the item stays open; dismiss closes."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from werkzeug.security import generate_password_hash

from emulators.common.server import RunningServer, serve_in_thread
from tests.connectors.payments_support import LUTIK, STRANGER, World, portal_app, start_world

PASSWORD = "review-password-7"


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningServer]:
    with serve_in_thread(portal_app()) as server:
        yield server


@pytest.fixture
def world(portal: RunningServer, db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[World]:
    admin = f"""\
        admin:
          password_hash: "{generate_password_hash(PASSWORD)}"
          secret_key: payments-review-test-secret-key-0123456789
        """
    built = start_world(portal, db_url, write_config, tmp_path, admin=admin)
    yield built
    built.stop()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(world: World) -> requests.Session:
    http = requests.Session()
    token = csrf(http.get(f"{world.relay.url}/admin/login", timeout=10).text)
    answer = http.post(f"{world.relay.url}/admin/login", data={"csrf_token": token, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200 and "Dashboard" in answer.text
    return http


def row(html: str, item_id: int) -> str:
    found = re.search(rf'<tr id="review-{item_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for review item {item_id}"
    return found.group(1)


def test_resolve_on_the_review_page_applies_the_payment(world: World) -> None:
    world.pay_by_webhook("15000.00", "Оплата за техническую поддержку. Без НДС", LUTIK)
    world.pay_by_webhook("5000.00", "Оплата за консультацию. Без НДС", STRANGER)
    world.work()
    ambiguous, unmatched = sorted(world.runtime.reviews.list("payment"), key=lambda i: len(i.candidates), reverse=True)
    http = login(world)
    dashboard = http.get(f"{world.relay.url}/admin/", timeout=10).text
    assert re.search(r'id="review-count">2<', dashboard) and 'id="nav-reviews"' in dashboard

    page = http.get(f"{world.relay.url}/admin/reviews", timeout=10).text
    listed = row(page, ambiguous.id)
    assert 'value="2"' in listed and 'value="3"' in listed  # both candidates to choose from
    assert "#2 «Поддержка, март»" in listed and "#3 «Поддержка, апрель»" in listed and "15000.00 RUB" in listed
    assert "ИНН 7704158205" in row(page, unmatched.id) and "no client" in row(page, unmatched.id)

    resolve = f"{world.relay.url}/admin/reviews/{ambiguous.id}/resolve"
    assert http.post(resolve, data={"choice": "3"}, timeout=10).status_code == 400  # no CSRF token
    assert http.post(resolve, data={"choice": "3", "csrf_token": "forged"}, timeout=10).status_code == 400
    assert world.runtime.reviews.get(ambiguous.id).status == "open"  # type: ignore[union-attr]

    token = csrf(page)
    refused = http.post(f"{world.relay.url}/admin/reviews/{unmatched.id}/resolve", timeout=10,
                        data={"csrf_token": token, "typed": "999"})
    assert refused.status_code == 200 and "deal 999 does not exist" in refused.text
    assert world.runtime.reviews.get(unmatched.id).status == "open"  # type: ignore[union-attr]

    done = http.post(resolve, data={"csrf_token": token, "choice": "3"}, timeout=10)
    assert done.status_code == 200 and f"Item {ambiguous.id} resolved" in done.text
    typed = http.post(f"{world.relay.url}/admin/reviews/{unmatched.id}/resolve", timeout=10,
                      data={"csrf_token": token, "typed": "4", "note": "консультация к доработке"})
    assert f"Item {unmatched.id} resolved" in typed.text
    world.work()
    assert world.deal(3)["UF_CRM_PAID_AMOUNT"] == "15000.00|RUB" and world.deal(3)["STAGE_ID"] == "UC_PAID"
    assert world.deal(4)["UF_CRM_PAID_AMOUNT"] == "5000.00|RUB"
    assert world.deal(2)["UF_CRM_PAID_AMOUNT"] in (None, "")

    page = http.get(f"{world.relay.url}/admin/reviews", timeout=10).text
    assert "Nothing waits for review" in page
    assert re.search(r'id="review-count">0<', http.get(f"{world.relay.url}/admin/", timeout=10).text)
    resolved = http.get(f"{world.relay.url}/admin/reviews?status=resolved", timeout=10).text
    assert "by admin" in row(resolved, unmatched.id) and "консультация к доработке" in row(resolved, unmatched.id)


def test_dismiss_closes_the_item_without_touching_any_deal(world: World) -> None:
    world.pay_by_webhook("5000.00", "Возврат излишне уплаченного", STRANGER)
    world.work()
    (item,) = world.runtime.reviews.list("payment")
    writes = world.writes()
    http = login(world)
    token = csrf(http.get(f"{world.relay.url}/admin/reviews", timeout=10).text)
    answer = http.post(f"{world.relay.url}/admin/reviews/{item.id}/dismiss", data={"csrf_token": token, "note": "возврат"},
                       timeout=10)
    assert answer.status_code == 200 and f"Item {item.id} dismissed" in answer.text
    closed = world.runtime.reviews.get(item.id)
    assert closed is not None and closed.status == "dismissed" and closed.resolution == {"note": "возврат"}
    world.work()
    world.replay_everything()  # the payment arriving again does not reopen a decided item
    assert world.runtime.reviews.list("payment") == [] and world.writes() == writes
    again = http.post(f"{world.relay.url}/admin/reviews/{item.id}/resolve", data={"csrf_token": token, "typed": "4"}, timeout=10)
    assert "already dismissed" in again.text

"""Tree reports (S6) and the holding report (S24) end to end: a deal tree built in the emulated portal
over REST, read back by the relay into its store, then asked over HTTP (token, admin session) and
through `app.py report`; every answer is compared with results worked out by hand."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from werkzeug.security import generate_password_hash

from tests.connectors.portal_support import COMPANY_EVENTS, DEAL_EVENTS, Portal, start_portal
from tests.support.bitrix24 import ROOT

TOKEN = "report-token-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "report-admin-password"
WATCH = """\
rules:
  - id: watch-deals
    when: {source: bitrix24, kind: "deal.*"}
    do: [{note: {text: "deal {{ id }}"}}]
  - id: watch-companies
    when: {source: bitrix24, kind: "company.*"}
    do: [{note: {text: "company {{ id }}"}}]
"""


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[Portal]:
    shutil.copytree(ROOT / "reports", tmp_path / "reports")
    admin = f"""\
admin:
  password_hash: "{generate_password_hash(PASSWORD)}"
  secret_key: reports-test-secret-key-0123456789
"""
    w = start_portal(db_url, write_config, tmp_path, rules=(), events=tuple(DEAL_EVENTS + COMPANY_EVENTS), top=admin,
                     connectors=f"  reports:\n    token: {TOKEN}\n", extra_files={"rules/watch.yaml": WATCH})
    build_tree(w)
    yield w
    w.stop()


def build_tree(world: Portal) -> None:
    """Sales deals A (won 10 May), B (won 5 June), C (open), and their department deals."""
    def deal(**fields: Any) -> str:
        return str(world.call("crm.deal.add", {"fields": fields}))

    a = deal(TITLE="Продажа А", STAGE_ID="WON", CLOSEDATE="2026-05-10", OPPORTUNITY=100)
    b = deal(TITLE="Продажа Б", STAGE_ID="WON", CLOSEDATE="2026-06-05")
    c = deal(TITLE="Продажа В", STAGE_ID="NEW", CLOSEDATE="2026-05-20")

    def child(parent: str, title: str, contractor: str, planned: str, done: str) -> str:
        return deal(TITLE=title, CATEGORY_ID=1, UF_CRM_PARENT_DEAL=parent, UF_CRM_CONTRACTOR=contractor,
                    UF_CRM_PLANNED_DEADLINE=planned, UF_CRM_ACTUAL_DONE=done)

    world.ids = {  # type: ignore[attr-defined]
        "a": a, "b": b, "c": c,
        "a1": child(a, "А1", "CO_3", "2026-05-20", "2026-05-25"),  # 5 days late
        "a2": child(a, "А2", "CO_3", "2026-06-01", "2026-05-30"),  # on time
        "a3": child(a, "А3", "4", "2026-05-15", "2026-05-16"),     # 1 day late
        "a4": child(a, "А4", "", "2026-05-10", "2026-05-12"),      # 2 days late, no contractor
        "b1": child(b, "Б1", "CO_3", "2026-06-10", "2026-06-20"),  # late, but sold in June
        "c1": child(c, "В1", "CO_4", "2026-05-10", "2026-05-30"),  # late, but never sold
    }
    for company in (1, 2, 3, 4):  # the store learns companies from their events
        world.call("crm.company.update", {"id": company, "fields": {"COMMENTS": "report test"}})
    for seeded in range(1, 7):
        world.call("crm.deal.update", {"id": seeded, "fields": {"COMMENTS": "report test"}})
    world.settle()


def get(world: Portal, path: str, **kwargs: Any) -> requests.Response:
    return requests.get(f"{world.relay.url}{path}", timeout=10, **kwargs)


def bearer(token: str = TOKEN) -> dict[str, dict[str, str]]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def test_late_children_per_contractor_among_deals_sold_in_may(world: Portal) -> None:
    ids = world.ids  # type: ignore[attr-defined]
    response = get(world, "/reports/late-children-by-contractor.csv", **bearer())
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["contractor_id", "contractor", "late_deals", "days_late", "parents", "deals"],
        ["", "(не указан)", "1", "2", "1", ids["a4"]],
        ["4", "ИП Кузнецов", "1", "1", "1", ids["a3"]],
        ["3", "ООО «ТрансЛогистик»", "1", "5", "1", ids["a1"]],
    ]
    june = get(world, "/reports/late-children-by-contractor.json?sold_from=2026-06-01&sold_to=2026-06-30&token=" + TOKEN).json()
    assert june["params"] == {"sold_from": "2026-06-01", "sold_to": "2026-06-30"}
    assert june["rows"] == [{"contractor_id": "3", "contractor": "ООО «ТрансЛогистик»", "late_deals": 1, "days_late": 10,
                             "parents": 1, "deals": [ids["b1"]]}]


def test_children_listing_and_the_holding_report(world: Portal) -> None:
    ids = world.ids  # type: ignore[attr-defined]
    rows = get(world, "/reports/children-of-won-deals.json", **bearer()).json()["rows"]
    assert [(r["parent_id"], r["deal_id"], r["late"]) for r in rows] == [
        (ids["a"], ids["a1"], True), (ids["a"], ids["a2"], False), (ids["a"], ids["a3"], True), (ids["a"], ids["a4"], True)]
    assert rows[0]["planned"] == "2026-05-20" and rows[0]["done"] == "2026-05-25" and rows[0]["parent"] == "Продажа А"
    # Holding «Альфа» (company 1 and its subsidiary 2): open seeded deals 1, 2, 3, 5, 6.
    holdings = get(world, "/reports/holdings.json", **bearer()).json()["rows"]
    assert holdings == [{"holding_id": "1", "holding": "АО «Холдинг Альфа»", "companies": 2, "open_deals": 5, "open_sum": 1540000}]


def test_access_needs_the_token_or_an_admin_session(world: Portal) -> None:
    for kwargs in ({}, bearer("x" * 40), {"params": {"token": TOKEN[:-1]}}):
        assert get(world, "/reports/holdings.csv", **kwargs).status_code == 401
    assert get(world, "/reports/holdings.csv?sold_from=2026-01-01", **bearer()).status_code == 400
    assert get(world, "/reports/no-such-report.csv", **bearer()).status_code == 404
    assert get(world, "/reports/holdings.xml", **bearer()).status_code == 404
    redirect = get(world, "/admin/reports/holdings.csv", allow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["Location"].startswith("/admin/login")
    http = requests.Session()
    form = http.get(f"{world.relay.url}/admin/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert http.post(f"{world.relay.url}/admin/login", data={"csrf_token": csrf, "password": PASSWORD}, timeout=10).ok
    answer = http.get(f"{world.relay.url}/admin/reports/holdings.csv", timeout=10)
    assert answer.status_code == 200 and answer.text.splitlines()[1] == "1,АО «Холдинг Альфа»,2,5,1540000"


def test_cli_gives_the_same_answer_and_names_bad_definitions(world: Portal, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    ran = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(config), "report", "late-children-by-contractor",
                          "--format", "json", "--param", "sold_from=2026-06-01", "--param", "sold_to=2026-06-30"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rows"][0]["deals"] == [world.ids["b1"]]  # type: ignore[attr-defined]
    (tmp_path / "reports" / "broken.yaml").write_text("reports:\n  broken:\n    source: deal\n    aggregates:\n      n: total(row.ID)\n",
                                                      encoding="utf-8")
    bad = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(config), "report", "--list"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "reports/broken.yaml:5: reports.broken.aggregates.n: Value error, expected one of count" in bad.stderr and "count_distinct" in bad.stderr
    assert get(world, "/reports/holdings.csv", **bearer()).status_code == 500  # a broken file is named, not ignored

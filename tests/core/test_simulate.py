"""`app.py simulate` against the Bitrix24 emulator over HTTP: the planned actions come out as JSON, and
neither the portal nor the store holds anything new afterwards."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select

from emulators.bitrix24 import create_app as create_portal
from emulators.common.server import RunningServer, serve_in_thread
from emulators.common.webhook_sink import WebhookSink
from relay.cli import main
from relay.store.schema import Effect, InboxEvent, OwnWrite, Snapshot, Timer, TraceStep
from tests.support.bitrix24 import CODE, SEED, TOKEN
from tests.support.relay import base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
FORWARD = """\
rules:
  - id: forward
    when: {source: shop, kind: "order.*"}
    do:
      - http_post: {url: "SINK/orders", json: {order: "{{ payload.id }}", amount: "{{ payload.amount }}"}}
      - start_timer: {kind: order.late, after: 2 working days, cancel_key: "order-{{ payload.id }}"}
"""


@pytest.fixture
def portal() -> Iterator[RunningServer]:
    server = serve_in_thread(create_portal(seed=SEED, rate_limit=False))
    yield server
    server.stop()


def rest(portal: RunningServer, method: str, params: dict[str, Any]) -> Any:
    return requests.post(f"{portal.url}/rest/1/{CODE}/{method}.json", json=params, timeout=10).json()["result"]


def counts(runtime: Any) -> dict[str, int]:
    with runtime.store.session() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in (Effect, InboxEvent, OwnWrite, Snapshot, Timer, TraceStep)}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip().startswith("{") else None, captured.err


def test_deal_plans_both_children_and_writes_nothing(db_url: str, portal: RunningServer, tmp_path: Path,
                                                     write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{d}__linked_deals.yaml": (ROOT / d / "linked_deals.yaml").read_text(encoding="utf-8") for d in ("rules", "mappings")}
    # Sandbox mode only because the emulator's demo credentials are refused in live mode.
    connector = f"mode: sandbox\nconnectors:\n  bitrix24:\n    webhook_url: {portal.url}/rest/1/{CODE}/\n    application_token: {TOKEN}\n"
    config = write_config(base_config(db_url, connector), **files)
    runtime = make_runtime(config)
    runtime.snapshots.observe("bitrix24:deal:1", rest(portal, "crm.deal.get", {"id": 1}))  # the relay saw deal 1 at NEW
    before_store, deals_before = counts(runtime), rest(portal, "crm.deal.list", {"select": ["ID"]})
    rest(portal, "crm.deal.update", {"id": 1, "fields": {"STAGE_ID": "UC_EVALUATE"}})  # no webhook handlers: no events

    code, plan, _ = run(capsys, "--config", str(config), "simulate", "--deal", "1")
    assert code == 0 and plan["error"] is None
    assert plan["event"]["kind"] == "deal.updated" and plan["event"]["entity_key"] == "bitrix24:deal:1"
    assert [(p["rule"], p["action"], p["detail"]["fields"]["TITLE"], p["detail"]["fields"]["STAGE_ID"]) for p in plan["planned"]] == [
        ("logistics-estimate", "create_child", "Оценка логистики: Поставка оборудования", "C1:NEW"),
        ("engineering-estimate", "create_child", "Расчёт: Поставка оборудования", "C2:NEW")]
    assert plan["trace"][0]["message"].startswith("deal 1: ") and "STAGE_ID" in plan["trace"][0]["message"]

    assert rest(portal, "crm.deal.list", {"select": ["ID"]}) == deals_before, "the emulator holds no new deal"
    assert rest(portal, "crm.deal.list", {"filter": {"UF_CRM_PARENT_DEAL": "1"}, "select": ["ID"]}) == []
    assert counts(runtime) == before_store, "no effect, trace, timer or event was recorded"
    assert runtime.snapshots.get("bitrix24:deal:1")["STAGE_ID"] == "NEW", "the snapshot is not moved on"

    # A second look plans the same: nothing the first one did changed what the relay knows.
    code, again, _ = run(capsys, "--config", str(config), "simulate", "--deal", "1")
    assert code == 0 and again["planned"] == plan["planned"]
    runtime.close()


def test_event_file_plans_the_post_and_the_timer_without_sending(db_url: str, tmp_path: Path, write_config: Callable[..., Path],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sink = WebhookSink()
    server = serve_in_thread(sink.app)
    try:
        config = write_config(base_config(db_url), **{"rules__forward.yaml": FORWARD.replace("SINK", server.url)})
        runtime = make_runtime(config)
        event = tmp_path / "order.json"
        event.write_text(json.dumps({"source": "shop", "kind": "order.paid", "payload": {"id": "A-17", "amount": 1500}}), encoding="utf-8")
        code, plan, _ = run(capsys, "--config", str(config), "simulate", "--event", str(event))
        assert code == 0 and plan["candidate_rules"] == ["forward"]
        post, timer = plan["planned"]
        assert post["detail"] == {"url": f"{server.url}/orders", "json": {"order": "A-17", "amount": "1500"}}
        assert (timer["action"], timer["detail"]["kind"], timer["detail"]["cancel_key"]) == ("start_timer", "order.late", "order-A-17")
        assert sink.received == [] and counts(runtime) == dict.fromkeys(counts(runtime), 0)
        runtime.close()
    finally:
        server.stop()


def test_errors_are_one_line_with_the_fix(tmp_path: Path, write_config: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}"), **{"rules__forward.yaml": FORWARD})
    event = tmp_path / "event.yaml"
    event.write_text("source: shop\nkind: order.paid\npayload: {id: 1}\n", encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), "simulate", "--event", str(event))
    assert code == 1 and err.count("\n") == 1 and "does not exist yet; fix: start the relay once" in err
    assert not (tmp_path / "relay.db").exists(), "simulating must not create the store"

    event.write_text("source: shop\nkinde: order.paid\n", encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), "simulate", "--event", str(event))
    assert code == 1 and err.count("\n") == 1
    assert f"{event}:2: kinde: unknown key 'kinde'" in err and "; fix: an event file holds source, kind, payload" in err

    code, _, err = run(capsys, "--config", str(config), "simulate", "--deal", "1")
    assert code == 1 and err.count("\n") == 1 and "fix:" in err

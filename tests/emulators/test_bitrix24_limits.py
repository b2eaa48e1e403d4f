"""Leaky bucket (burst then drain, 503 after), operating-time budget (429), fault injection."""
from __future__ import annotations

import math
import time

import pytest
import requests

from emulators.bitrix24.limits import OperatingSettings
from tests.emulators.test_bitrix24_support import Emu, FakeClock, emu, emu_server, start_emu  # noqa: F401

QLE = '{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}'
OTL = '{"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked due to operation time limit."}'


def statuses(e: Emu, count: int, method: str = "crm.deal.fields") -> list[int]:
    return [e.post(method, json={}).status_code for _ in range(count)]


def test_default_bucket_50_burst_then_2_per_second_with_injected_clock() -> None:
    clock = FakeClock()
    e = start_emu(rate_limit=True, clock=clock)
    try:
        got = statuses(e, 60)
        assert got == [200] * 50 + [503] * 10
        r = e.post("crm.deal.fields", json={})
        assert (r.status_code, r.text) == (503, QLE)
        clock.advance(1.0)  # drains 2
        assert statuses(e, 3) == [200, 200, 503]
        clock.advance(25.0)  # drains everything
        assert statuses(e, 51) == [200] * 50 + [503]
        counts = e.control("GET", "requests")
        assert counts["rejected"] == {"QUERY_LIMIT_EXCEEDED": 13} and counts["total"] == 60 + 1 + 3 + 51
    finally:
        e.close()


def test_default_numbers_with_the_real_clock() -> None:
    e = start_emu(rate_limit=True)
    try:
        started = time.monotonic()
        got = statuses(e, 80)
        elapsed = time.monotonic() - started
        assert got[:50] == [200] * 50  # the burst always passes
        allowed = 50 + math.ceil(2 * elapsed) + 1  # plus what drained while we were sending
        assert got.count(200) <= allowed
        if allowed < 80:
            assert got.count(503) >= 80 - allowed
    finally:
        e.close()


def test_enterprise_plan_and_batch_counts_once() -> None:
    clock = FakeClock()
    e = start_emu(rate_limit=True, clock=clock)
    try:
        e.control("POST", "limits", {"plan": "enterprise"})
        assert statuses(e, 251) == [200] * 250 + [503]
        clock.advance(1.0)  # enterprise drains 5 per second
        assert statuses(e, 6) == [200] * 5 + [503]
        e.control("POST", "limits", {"plan": "standard"})  # reconfiguring empties the bucket
        body = e.result("batch", {"cmd": {f"k{i}": "crm.deal.fields" for i in range(50)}})
        assert len(body["result"]) == 50
        assert statuses(e, 50) == [200] * 49 + [503]
        e.control("POST", "limits", {"burst": 3, "rate": 1})  # custom numbers
        clock.advance(100)
        assert statuses(e, 4) == [200, 200, 200, 503]
    finally:
        e.close()


def test_rate_limit_can_be_switched_off(emu: Emu) -> None:
    assert set(statuses(emu, 70)) == {200}


def test_operating_time_limit_blocks_the_next_call_of_that_method() -> None:
    clock = FakeClock(1_766_047_124)
    e = start_emu(clock=clock, operating=OperatingSettings(enabled=True, costs={"crm.deal.list": 100.0}))
    try:
        seen = [e.call("crm.deal.list")["time"] for _ in range(5)]
        assert [t["operating"] for t in seen] == [100.0, 200.0, 300.0, 400.0, 500.0]  # cumulative, as Bitrix reports
        assert seen[0]["operating_reset_at"] == (1_766_047_124 // 60) * 60 + 600
        r = e.post("crm.deal.list", json={})
        assert (r.status_code, r.text) == (429, OTL)
        assert e.post("crm.deal.fields", json={}).status_code == 200  # other methods keep working
        batch = e.result("batch", {"cmd": {"x": "crm.deal.list"}})
        assert batch["result_error"]["x"]["error"] == "OPERATION_TIME_LIMIT"
        clock.advance(601)
        assert e.post("crm.deal.list", json={}).status_code == 200
    finally:
        e.close()


def test_scripted_faults_give_html_pages_and_resets(emu: Emu) -> None:
    emu.control("POST", "faults", {"script": ["500", "502", "reset", "ok"]})
    r500 = emu.post("crm.deal.fields", json={})
    assert r500.status_code == 500 and r500.headers["Content-Type"].startswith("text/html")
    r502 = emu.post("crm.deal.fields", json={})
    assert r502.status_code == 502 and "nginx" in r502.text
    with pytest.raises(requests.ConnectionError):
        requests.post(emu.webhook + "crm.deal.fields", json={}, timeout=5)
    assert emu.post("crm.deal.fields", json={}).status_code == 200
    emu.control("POST", "faults", {"error_rate": 1.0, "seed": 1})
    assert emu.post("crm.deal.fields", json={}).status_code in (500, 502)
    assert emu.control("GET", "requests")["total"] >= 0  # control endpoints are never faulted
    emu.control("POST", "faults", {})

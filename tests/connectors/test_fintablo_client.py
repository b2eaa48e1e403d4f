"""The Fintablo client against the emulator: retries of 429/5xx/timeouts, error mapping, paging,
and the per-process request budget (checked on a fake clock, never by timing)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
from pydantic import SecretStr

from connectors.fintablo.client import FintabloClient, FintabloError, RateBudget
from connectors.fintablo.settings import FintabloSettings
from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.fintablo import create_app
from relay.errors import PermanentError, TransientError, UpstreamUnavailable
from tests.emulators.support import control, fresh_fintablo

TOKEN = "ft-demo-7f3c9a1e5b"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningServer]:
    with serve_in_thread(create_app(clock=ManualClock(start=1_741_000_000.0))) as server:
        yield server


@pytest.fixture
def server(running: RunningServer) -> RunningServer:
    return fresh_fintablo(running)


def client(server: RunningServer, **overrides: Any) -> FintabloClient:
    settings = FintabloSettings(base_url=server.url, token=SecretStr(overrides.pop("token", TOKEN)),
                                retries=overrides.pop("retries", 5), retry_wait_seconds=0.001,
                                timeout_seconds=overrides.pop("timeout_seconds", 5.0), **overrides)
    return FintabloClient(settings, budget=RateBudget(300))


def knobs(server: RunningServer, **values: Any) -> None:
    control(server, "knobs", **values)


def faults(server: RunningServer, **values: Any) -> None:
    control(server, "faults", **values)


def test_reads_and_writes_through_the_envelope(server: RunningServer) -> None:
    api = client(server)
    assert [p["id"] for p in api.list("partner", inn="7701256557")] == [78]
    created = api.create("partner", {"name": "ООО \"Литера\"", "inn": "7813794786"})
    assert api.get("partner", created["id"])["inn"] == "7813794786"
    assert api.update("partner", created["id"], {"comment": "арендодатель"})["comment"] == "арендодатель"


def test_no_item_found_is_none_not_an_error(server: RunningServer) -> None:
    api = client(server)
    assert api.get("transaction", 999999) is None
    assert api.update("deal", 999999, {"name": "x"}) is None
    with pytest.raises(FintabloError) as caught:
        api.create("transaction", {"value": 10, "group": "income", "moneybagId": 999999, "date": "01.03.2025"})
    assert caught.value.status == 422 and "The moneybagId is not found" in str(caught.value)


def test_bad_token_and_bad_data_are_permanent(server: RunningServer) -> None:
    with pytest.raises(PermanentError, match="connectors.fintablo.token"):
        client(server, token="wrong").list("moneybag")
    with pytest.raises(PermanentError, match="Invalid group"):
        client(server).create("transaction", {"value": 10, "group": "gift", "moneybagId": 376, "date": "01.03.2025"})


def test_429_and_5xx_pages_are_retried(server: RunningServer) -> None:
    api = client(server)
    faults(server, script=["500", "502"])  # the gateway fails twice (faults sit in front of the API) ...
    knobs(server, force_429=2)  # ... then the API refuses twice more
    assert [m["id"] for m in api.list("moneybag")] == [375, 376, 377, 378]
    assert api.requests_sent == 5


def test_a_timeout_is_retried(server: RunningServer) -> None:
    api = client(server, timeout_seconds=0.2)
    faults(server, script=["timeout"], timeout_seconds=1.0)
    assert api.get("partner", 78)["name"] == "ООО \"Ромашка\""
    assert api.requests_sent == 2


def test_retries_used_up_become_a_transient_error_for_the_worker(server: RunningServer) -> None:
    api = client(server, retries=2)
    knobs(server, force_429=5)
    with pytest.raises(TransientError, match="after 2 tries") as caught:
        api.list("partner")
    assert caught.value.retry_after and api.requests_sent == 2
    assert not isinstance(caught.value, UpstreamUnavailable)  # a rate limit is no outage: attempts count


def test_fintablo_down_is_an_outage_for_the_worker(running: RunningServer) -> None:
    with serve_in_thread(create_app()) as gone:
        url = gone.url  # closed again when the block ends: connections are refused
    api = FintabloClient(FintabloSettings(base_url=url, token=SecretStr(TOKEN), retries=2, retry_wait_seconds=0.001),
                         budget=RateBudget(300))
    with pytest.raises(UpstreamUnavailable, match="ConnectionError") as caught:
        api.list("partner")
    assert caught.value.upstream == "Fintablo"


def test_transactions_are_read_page_by_page(running: RunningServer, server: RunningServer) -> None:
    store = running.server.app.extensions["fintablo"].store  # type: ignore[attr-defined]
    for n in range(1, 1201):
        store.create("transaction", {"value": n, "group": "income", "moneybagId": 375, "date": "02.03.2025"})
    api = client(server)
    rows = api.all_transactions(moneybagId=375, dateFrom="02.03.2025")
    assert len(rows) == 1200 and rows[-1]["value"] == 1200 and api.requests_sent == 2


def test_the_budget_is_shared_and_waits_for_the_oldest_request_to_age_out() -> None:
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RateBudget(3, 60.0, clock=lambda: now[0], sleep=sleep)
    assert [budget.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 10.0
    assert budget.acquire() == 50.0 and slept == [50.0]
    now[0] = 61.0
    assert budget.acquire() == 0.0
    assert RateBudget.for_token("one", 300) is RateBudget.for_token("one", 300)
    assert RateBudget.for_token("one", 300) is not RateBudget.for_token("two", 300)
    assert RateBudget.for_token("one", 100).limit == 100

"""Fintablo emulator over real HTTP: auth, envelopes, CRUD, filters, paging, errors, rate limit."""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests
from flask import Flask

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.fintablo import create_app
from tests.emulators.support import fresh_fintablo

TOKEN = "ft-demo-7f3c9a1e5b"


class Api:
    """requests with the base URL and the bearer token already applied."""

    def __init__(self, server: RunningServer, token: str = TOKEN) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(start=1_738_900_000.0)


@pytest.fixture(scope="module")
def app(clock: ManualClock) -> Flask:
    return create_app(clock=clock)


@pytest.fixture(scope="module")
def running(app: Flask) -> Iterator[RunningServer]:
    # One server per module (stopping one costs half a second); every test starts from a reset.
    with serve_in_thread(app) as server:
        yield server


@pytest.fixture
def server(running: RunningServer) -> RunningServer:
    return fresh_fintablo(running)


@pytest.fixture
def api(server: RunningServer) -> Api:
    return Api(server)


def test_list_envelope_and_request_id(api: Api) -> None:
    r = api("GET", "/v1/moneybag")
    assert r.status_code == 200
    assert r.headers["X-Request-Id"]
    body = r.json()
    assert body["status"] == 200 and isinstance(body["items"], list)
    bag = next(b for b in body["items"] if b["number"] == "40702810575689348581")
    assert set(bag) == {"id", "name", "type", "number", "currency", "balance", "surplus", "surplusTimestamp",
                        "groupId", "archived", "hideInTotal", "withoutNds"}
    assert bag["type"] == "bank" and bag["archived"] == 0
    # seed: 250000 + 60000 income - 35000 outcome - 50000 transferred out
    assert bag["balance"] == 225000


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic Zm9vOmJhcg=="])
def test_bad_credentials(server: RunningServer, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = requests.get(server.url + "/v1/deal", headers=headers, timeout=10)
    assert r.status_code == 401
    assert r.json() == {"status": 401, "statusText": "Your request was made with invalid credentials."}
    assert r.headers["X-Request-Id"]


def test_unknown_id_is_422_with_exact_body(api: Api) -> None:
    for path in ("/v1/deal/999999", "/v1/partner/999999", "/v1/transaction/999999", "/v1/category/999999"):
        r = api("GET", path)
        assert (r.status_code, r.json()) == (422, {"status": 422, "statusText": "No item found"})
    assert api("PUT", "/v1/deal/999999", json={"name": "x"}).json() == {"status": 422, "statusText": "No item found"}
    assert api("DELETE", "/v1/partner/999999").status_code == 422


def test_get_by_id_is_a_one_item_list(api: Api) -> None:
    body = api("GET", "/v1/deal/56").json()
    assert body["status"] == 200 and len(body["items"]) == 1
    deal = body["items"][0]
    assert deal["id"] == 56 and deal["directionId"] == 23 and deal["statusId"] == 14 and deal["partnerId"] == 78
    assert deal["amount"] == 100000 and deal["nds"] == 20000 and deal["startDate"] == "01.02.2025"


def test_partner_find_by_inn_then_create(api: Api) -> None:
    found = api("GET", "/v1/partner", params={"inn": "7701256557"}).json()["items"]
    assert [p["id"] for p in found] == [78]
    assert api("GET", "/v1/partner", params={"inn": "7813794786"}).json()["items"] == []
    created = api("POST", "/v1/partner", json={"name": "ООО \"Литера\"", "inn": 7813794786, "groupId": 142})
    assert created.status_code == 200
    item = created.json()["items"][0]
    assert item["inn"] == "7813794786" and isinstance(item["id"], int)
    assert [p["id"] for p in api("GET", "/v1/partner", params={"inn": "7813794786"}).json()["items"]] == [item["id"]]
    assert [p["id"] for p in api("GET", "/v1/partner", params={"name": "литер"}).json()["items"]] == [item["id"]]


def test_partner_validation(api: Api) -> None:
    assert api("POST", "/v1/partner", json={"inn": "7701256557"}).json() == \
        {"status": 400, "statusText": "Required fields not exist"}
    assert api("POST", "/v1/partner", json={"name": "X", "groupId": 9999}).json() == \
        {"status": 422, "statusText": "The groupId is not found"}
    assert api("POST", "/v1/partner", data="").json() == {"status": 400, "statusText": "The request data is empty"}


def test_deal_create_update_filter(api: Api) -> None:
    body = {"name": "Внедрение CRM для ООО \"Литера\"", "amount": 50000, "nds": 10000, "directionId": 23,
            "statusId": 12, "partnerId": 80, "startDate": "10.02.2025", "comment": "Счет № 130"}
    deal = api("POST", "/v1/deal", json=body).json()["items"][0]
    assert deal["currency"] == "RUB" and deal["stages"] == []
    updated = api("PUT", f"/v1/deal/{deal['id']}", json={"statusId": 15}).json()["items"][0]
    assert updated["statusId"] == 15 and updated["amount"] == 50000  # partial update keeps the rest
    assert [d["id"] for d in api("GET", "/v1/deal", params={"statusId": 15}).json()["items"]] == [deal["id"]]
    assert {d["id"] for d in api("GET", "/v1/deal", params={"directionId": 23}).json()["items"]} == {56, deal["id"]}
    after = api("GET", "/v1/deal", params={"startDateFrom": "05.02.2025"}).json()["items"]
    assert [d["id"] for d in after] == [deal["id"]]


def test_deal_validation_texts(api: Api) -> None:
    assert api("POST", "/v1/deal", json={"name": "X", "startDate": "2025-02-10"}).json() == \
        {"status": 422, "statusText": "Date format need is dd.mm.YYYY"}
    assert api("GET", "/v1/deal", params={"startDateFrom": "2025-02-10"}).json() == \
        {"status": 400, "statusText": "Required date format is dd.mm.YYYY"}
    assert api("POST", "/v1/deal", json={"name": "X", "statusId": 4242}).json() == \
        {"status": 422, "statusText": "The statusId is not found"}
    assert api("POST", "/v1/deal", json={"name": "X", "amount": "много"}).json() == \
        {"status": 400, "statusText": "Invalid type"}


def test_deal_stage_id_is_a_valid_deal_id_for_payments(api: Api) -> None:
    deal = api("POST", "/v1/deal/56/add-stage", json={"name": "Этап 2: обучение", "amount": 20000}).json()
    stage = deal["items"][0]["stages"][0]
    assert stage["name"] == "Этап 2: обучение" and "partnerId" not in stage
    tx = api("POST", "/v1/transaction", json={"value": 20000, "group": "income", "moneybagId": 376,
                                             "date": "20.02.2025", "dealId": stage["id"]})
    assert tx.status_code == 200 and tx.json()["items"][0]["dealId"] == stage["id"]
    assert stage["id"] not in [d["id"] for d in api("GET", "/v1/deal").json()["items"]]


def test_transaction_create_shape_and_defaults(api: Api) -> None:
    r = api("POST", "/v1/transaction", json={"value": 40000, "group": "income", "moneybagId": 376,
                                            "date": "10.02.2025", "partnerId": 78, "dealId": 56, "nds": 20,
                                            "description": "Оплата по счету № 123 от 01.02.2025. Остаток"})
    item = r.json()["items"][0]
    assert item["categoryId"] == 345  # built-in "Неразнесенное поступление"
    assert item["factMonth"] == "02.2025" and item["spreadMonthes"] == 1 and item["isPlan"] == 0
    assert item["parentId"] is None and "value2" not in item
    assert isinstance(item["timestamp"], int)
    paid = sum(t["value"] for t in api("GET", "/v1/transaction", params={"dealId": 56}).json()["items"])
    assert paid == 100000


def test_transaction_validation_texts(api: Api) -> None:
    base = {"value": 100, "group": "income", "moneybagId": 376}
    assert api("POST", "/v1/transaction", json=base).json() == \
        {"status": 422, "statusText": "Timestamp or date is reaquired"}
    assert api("POST", "/v1/transaction", json={**base, "group": "incoming", "date": "01.02.2025"}).json() == \
        {"status": 400, "statusText": "Invalid group"}
    assert api("POST", "/v1/transaction", json={**base, "date": "2025-02-01"}).json() == \
        {"status": 422, "statusText": "Date format need is dd.mm.YYYY"}
    assert api("POST", "/v1/transaction", json={"value": 1, "date": "01.02.2025"}).json() == \
        {"status": 400, "statusText": "Required fields not exist"}
    assert api("POST", "/v1/transaction", json={**base, "date": "01.02.2025", "moneybagId": 1}).json() == \
        {"status": 422, "statusText": "The moneybagId is not found"}
    assert api("GET", "/v1/transaction", params={"group": "nope"}).json() == \
        {"status": 400, "statusText": "Invalid group"}
    assert api("GET", "/v1/transaction", params={"dateFrom": "1.2.2025"}).json() == \
        {"status": 400, "statusText": "Required date format is dd.mm.YYYY"}


def test_transaction_by_timestamp_and_transfer(api: Api) -> None:
    by_ts = api("POST", "/v1/transaction", json={"value": 5, "group": "outcome", "moneybagId": 375,
                                                "timestamp": 1_739_000_000}).json()["items"][0]
    assert by_ts["date"] == "08.02.2025" and by_ts["categoryId"] == 346
    no_target = api("POST", "/v1/transaction", json={"value": 5, "group": "transfer", "moneybagId": 376,
                                                    "date": "08.02.2025"})
    assert no_target.json()["statusText"] == "Required fields not exist"
    moved = api("POST", "/v1/transaction", json={"value": 7, "group": "transfer", "moneybagId": 376,
                                                "moneybag2Id": 375, "date": "08.02.2025"}).json()["items"][0]
    assert moved["value2"] == 7 and moved["moneybag2Id"] == 375


def test_transaction_paging_default_50_max_1000(api: Api, app: Flask) -> None:
    store = app.extensions["fintablo"].store  # bulk set-up in process: 1100 HTTP posts would hit the limit
    for n in range(1, 1101):
        store.create("transaction", {"value": n, "group": "income", "moneybagId": 375, "date": "15.03.2025"})
    march = {"dateFrom": "01.03.2025", "dateTo": "31.03.2025"}
    assert len(api("GET", "/v1/transaction", params=march).json()["items"]) == 50
    assert len(api("GET", "/v1/transaction", params={**march, "pageSize": 5000}).json()["items"]) == 1000
    seen, page = [], 1
    while True:  # the documented client loop: stop at a short page
        items = api("GET", "/v1/transaction", params={**march, "pageSize": 300, "page": page}).json()["items"]
        seen += [t["id"] for t in items]
        if len(items) < 300:
            break
        page += 1
    assert len(seen) == len(set(seen)) == 1100 and page == 4


def test_deals_page_500(api: Api, app: Flask) -> None:
    for n in range(600):
        app.extensions["fintablo"].store.create("deal", {"name": f"Сделка {n}"})
    first = api("GET", "/v1/deal", params={"page": 1}).json()["items"]
    second = api("GET", "/v1/deal", params={"page": 2}).json()["items"]
    assert len(first) == 500 and len(second) == 102
    assert not {d["id"] for d in first} & {d["id"] for d in second}


def test_filters_on_references(api: Api) -> None:
    assert [c["id"] for c in api("GET", "/v1/category", params={"group": "transfer"}).json()["items"]] == [347]
    assert {b["id"] for b in api("GET", "/v1/moneybag", params={"type": "bank"}).json()["items"]} == {376, 377}
    assert [d["id"] for d in api("GET", "/v1/direction", params={"parentId": 23}).json()["items"]] == [25]
    assert len(api("GET", "/v1/deal-status").json()["items"]) == 5
    assert api("GET", "/v1/moneybag", params={"type": "cash"}).json() == {"status": 400, "statusText": "Invalid type"}


def test_built_in_and_related_items(api: Api) -> None:
    assert api("PUT", "/v1/category/345", json={"name": "X"}).json() == \
        {"status": 422, "statusText": "The item is built in"}
    assert api("DELETE", "/v1/category/345").json() == {"status": 422, "statusText": "The item is built in"}
    assert api("POST", "/v1/category", json={"name": "X", "group": "income", "type": "operating",
                                            "parentId": 345}).json() == \
        {"status": 422, "statusText": "The item cannot be child of built in"}
    assert api("DELETE", "/v1/partner/78").json() == \
        {"status": 422, "statusText": "The item is related to others and cannot be removed"}
    fresh = api("POST", "/v1/direction", json={"name": "Аудит"}).json()["items"][0]
    assert api("DELETE", f"/v1/direction/{fresh['id']}").json() == {"status": 200}
    assert api("GET", f"/v1/direction/{fresh['id']}").status_code == 422


def test_split_and_unsplit(api: Api) -> None:
    r = api("POST", "/v1/transaction/8865/split", json=[{"value": 40000, "dealId": 56, "categoryId": 356},
                                                        {"value": 20000, "categoryId": 357, "partnerId": 78}])
    items = r.json()["items"]
    assert [i["parentId"] for i in items] == [None, 8865, 8865]
    children = api("GET", "/v1/transaction", params={"parentId": 8865}).json()["items"]
    assert sorted(c["value"] for c in children) == [20000, 40000]
    assert api("POST", "/v1/transaction/8865/split", json=[{"value": 1}]).json() == \
        {"status": 422, "statusText": "Invalid value"}
    assert api("POST", "/v1/transaction/8865/unsplit", json={"categoryId": 356}).json()["items"][0]["categoryId"] == 356
    assert api("GET", "/v1/transaction", params={"parentId": 8865}).json()["items"] == []


def test_unknown_method_and_missing_id(api: Api) -> None:
    assert api("GET", "/v1/invoice").json() == {"status": 400, "statusText": "Unknown method"}
    assert api("PUT", "/v1/deal", json={"name": "x"}).json() == {"status": 400, "statusText": "ID is required"}
    assert api("DELETE", "/v1/deal").json() == {"status": 400, "statusText": "ID is required"}


def test_rate_limit_300_per_minute(api: Api, clock: ManualClock) -> None:
    codes = [api("GET", "/v1/deal-status").status_code for _ in range(300)]
    assert codes == [200] * 300
    r = api("GET", "/v1/deal-status")
    assert (r.status_code, r.json()) == (429, {"status": 429, "statusText": "Too many requests"})
    assert r.headers["X-Request-Id"]
    assert requests.get(api.url + "/_emulator/state", timeout=10).status_code == 200  # control is never limited
    clock.advance(30)
    assert api("GET", "/v1/deal-status").status_code == 429  # still inside the sliding minute
    clock.advance(30.5)
    assert api("GET", "/v1/deal-status").status_code == 200


def test_rate_limit_is_per_token(server: RunningServer, clock: ManualClock) -> None:
    app_state = requests.post(server.url + "/_emulator/knobs", json={"rate_limit": 2}, timeout=10).json()
    assert app_state["rate_limit"] == 2
    api = Api(server)
    assert [api("GET", "/v1/direction").status_code for _ in range(3)] == [200, 200, 429]
    counts = requests.get(server.url + "/_emulator/requests", timeout=10).json()
    assert counts["total"] == 3


def test_force_429_and_faults(api: Api) -> None:
    requests.post(api.url + "/_emulator/knobs", json={"force_429": 2}, timeout=10)
    assert [api("GET", "/v1/partner").status_code for _ in range(3)] == [429, 429, 200]
    requests.post(api.url + "/_emulator/faults", json={"script": ["502"]}, timeout=10)
    r = api("GET", "/v1/partner")
    assert r.status_code == 502 and "text/html" in r.headers["Content-Type"]


def test_reset_restores_seed(api: Api) -> None:
    api("POST", "/v1/partner", json={"name": "Временный"})
    assert requests.post(api.url + "/_emulator/reset", timeout=10).json() == {"reset": True}
    names = [p["name"] for p in api("GET", "/v1/partner").json()["items"]]
    assert "Временный" not in names and len(names) == 3

"""The real fast-bitrix24 client against the emulator: paging, batching, results, retries, quirks."""
from __future__ import annotations

import logging
import math

import aiohttp
import pytest
from fast_bitrix24 import Bitrix
from fast_bitrix24.server_response import ErrorInServerResponseException

from tests.emulators.test_bitrix24_support import Emu, emu, emu_server  # noqa: F401

N = 1050
logging.getLogger("fast_bitrix24").setLevel(logging.INFO)  # its DEBUG log prints every response


def client(emu: Emu, **kw: object) -> Bitrix:
    return Bitrix(emu.webhook.rstrip("/"), verbose=False, **kw)  # it appends the trailing "/" itself


def test_bulk_add_get_all_get_by_id_call_and_call_batch(emu: Emu) -> None:
    b = client(emu)
    emu.control("DELETE", "requests")
    new_ids = b.call("crm.deal.add", [{"fields": {"TITLE": f"Deal {i}", "OPPORTUNITY": i}} for i in range(N)])
    assert isinstance(new_ids, tuple) and len(new_ids) == N and len(set(new_ids)) == N
    assert emu.control("GET", "requests")["by_method"] == {"batch": math.ceil(N / 50)}  # 50 commands per batch

    emu.control("DELETE", "requests")
    deals = b.get_all("crm.deal.list", {"select": ["ID", "TITLE", "OPPORTUNITY"]})
    assert len(deals) == N and {int(d["ID"]) for d in deals} == set(new_ids)
    assert all(d["TITLE"] == f"Deal {int(float(d['OPPORTUNITY']))}" for d in deals)
    counts = emu.control("GET", "requests")
    assert counts["by_method"] == {"crm.deal.list": 1, "batch": 1}  # first page + one batch of 20 pages
    assert counts["batch_commands"] == {"crm.deal.list": (N - 1) // 50}

    by_id = b.get_by_ID("crm.deal.get", [d["ID"] for d in deals])
    assert len(by_id) == N and all(by_id[d["ID"]]["TITLE"] == d["TITLE"] for d in deals)

    updated = b.call("crm.deal.update", [{"ID": i, "fields": {"STAGE_ID": "WON"}} for i in new_ids[:120]])
    assert updated == (True,) * 120
    won = b.get_all("crm.deal.list", {"filter": {"STAGE_ID": "WON"}, "select": ["ID"]})
    assert {int(d["ID"]) for d in won} == set(new_ids[:120])

    result = b.call_batch({"halt": 0, "cmd": {"new": "crm.deal.add?fields[TITLE]=Chained",
                                              "read": "crm.deal.get?id=$result[new]"}})
    assert result["read"]["ID"] == str(result["new"]) and result["read"]["TITLE"] == "Chained"


def test_client_quirks_are_reproduced(emu: Emu) -> None:
    b = client(emu)
    deal = b.call("crm.deal.add", {"fields": {"TITLE": "single"}})
    assert isinstance(deal, int)
    assert b.call("crm.deal.get", {"ID": deal}) == {"order0000000000": b.get_by_ID("crm.deal.get", [deal])}
    raw = b.call("crm.deal.get", {"ID": deal}, raw=True)
    assert raw["result"]["TITLE"] == "single" and raw["time"]["operating"] == 0
    item = b.call("crm.item.get", {"entityTypeId": 2, "id": deal})
    assert item["title"] == "single"  # a one-key {"item": ...} answer is unwrapped


def test_errors_reach_the_client_as_it_expects(emu: Emu) -> None:
    b = client(emu)
    with pytest.raises(ErrorInServerResponseException):
        b.get_by_ID("crm.deal.get", [999999])
    with pytest.raises(aiohttp.ClientResponseError) as info:
        b.call("crm.deal.get", {"ID": 1}, raw=True)  # 400 "Not found": the body is lost by aiohttp
    assert info.value.status == 400


def test_5xx_faults_are_retried_by_the_client(emu: Emu) -> None:
    b = client(emu)
    emu.control("POST", "faults", {"script": ["502", "500", "reset", "ok"]})
    assert isinstance(b.call("crm.deal.add", {"fields": {"TITLE": "after faults"}}), int)
    injected = emu.control("GET", "faults")["injected"]
    assert injected == {"502": 1, "500": 1, "reset": 1}


def test_respect_velocity_policy_false_breaks_on_operating(emu: Emu) -> None:
    """Deliberate: fast-bitrix24's KeyError bug when time.operating is present (it always is)."""
    b = client(emu, respect_velocity_policy=False)
    with pytest.raises(KeyError):
        b.call("crm.deal.fields", {}, raw=True)

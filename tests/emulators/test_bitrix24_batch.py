"""`batch`: 50 commands max, `$result[...]` substitution, halt, per-command errors, list extras."""
from __future__ import annotations

from urllib.parse import urlencode

import requests

from tests.emulators.test_bitrix24_support import Emu, emu, emu_server  # noqa: F401


def test_result_substitution_chains_commands(emu: Emu) -> None:
    company = emu.result("crm.company.add", {"fields": {"TITLE": "ACME"}})
    body = emu.result("batch", {"halt": 0, "cmd": {
        "deal": "crm.deal.add?fields[TITLE]=From%20batch&fields[COMPANY_ID]=" + str(company),
        "got": "crm.deal.get?id=$result[deal]",
        "company": "crm.company.get?id=$result[got][COMPANY_ID]",
        "copy": "crm.deal.add?fields[TITLE]=Copy%20of%20$result[got][TITLE]&fields[UF_CRM_X]=$result[nope][ID]",
        "list": "crm.deal.list?filter[ID]=$result[deal]&select[0]=ID&select[1]=TITLE",
    }})
    deal = body["result"]["deal"]
    assert body["result"]["got"]["ID"] == str(deal)
    assert body["result"]["company"]["TITLE"] == "ACME"
    assert emu.result("crm.deal.get", {"id": body["result"]["copy"]})["TITLE"] == "Copy of From batch"
    assert body["result"]["list"] == [{"ID": str(deal), "TITLE": "From batch"}]
    assert body["result_total"] == {"list": 1} and body["result_next"] == []
    assert set(body["result_time"]) == {"deal", "got", "company", "copy", "list"}
    assert body["result_error"] == []


def test_whole_value_reference_keeps_arrays(emu: Emu) -> None:
    ids = [emu.result("crm.deal.add", {"fields": {"TITLE": t}}) for t in ("a", "b", "c")]
    body = emu.result("batch", {"cmd": {
        "ids": f"crm.deal.list?filter[@ID][]={ids[0]}&filter[@ID][]={ids[2]}&select[]=ID",
        "again": "crm.deal.list?filter[ID]=$result[ids][1][ID]&select[]=TITLE",
    }})
    assert body["result"]["again"] == [{"ID": str(ids[2]), "TITLE": "c"}]


def test_errors_halt_and_numeric_keys(emu: Emu) -> None:
    r = emu.post("batch", json={"halt": 0, "cmd": ["crm.deal.get?id=0", "crm.deal.get?id=999"]})
    assert r.status_code == 200
    assert r.text.startswith('{"result":{"result":[],"result_error":[{"error":"","error_description":'
                             '"ID is not defined or invalid."},{"error":"","error_description":"Not found"}],'
                             '"result_total":[],"result_next":[],"result_time":[]},"time":{')
    deal = emu.result("crm.deal.add", {"fields": {"TITLE": "x"}})
    body = emu.result("batch", {"halt": 1, "cmd": {"a": f"crm.deal.get?id={deal}", "b": "no.such.method",
                                                  "c": f"crm.deal.get?id={deal}"}})
    assert list(body["result"]) == ["a"] and body["result_error"] == {
        "b": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}}


def test_more_than_50_commands_and_nested_batch(emu: Emu) -> None:
    cmd = {f"c{i}": "crm.deal.fields" for i in range(52)}
    cmd["nested"] = "batch?cmd[x]=crm.deal.fields"
    body = emu.result("batch", {"halt": 0, "cmd": cmd})
    assert len(body["result"]) == 50
    assert body["result_error"]["c50"] == {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}
    assert body["result_error"]["nested"]["error"] in ("ERROR_BATCH_LENGTH_EXCEEDED", "ERROR_BATCH_METHOD_NOT_ALLOWED")
    body = emu.result("batch", {"cmd": {"n": "batch?cmd[x]=crm.deal.fields"}})
    assert body["result_error"]["n"] == {"error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
                                         "error_description": "Method is not allowed for batch usage"}


def test_fast_bitrix24_command_shape_and_paging_extras(emu: Emu) -> None:
    for chunk in range(3):
        emu.result("batch", {"cmd": {f"a{i}": f"crm.deal.add?fields[TITLE]=D{chunk}_{i}" for i in range(40)}})
    body = emu.result("batch", {"halt": 0, "cmd": {
        "cmd0000000000": "crm.deal.list?filter[%3EID]=0&select[0]=ID&order[ID]=ASC&start=50&",
        "cmd0000000001": "crm.deal.list?filter[%3EID]=0&select[0]=ID&order[ID]=ASC&start=100&__order=x&",
    }})
    assert body["result"]["cmd0000000000"][0] == {"ID": "51"} and len(body["result"]["cmd0000000001"]) == 20
    assert body["result_total"] == {"cmd0000000000": 120, "cmd0000000001": 120}
    assert body["result_next"] == {"cmd0000000000": 100}


def test_form_encoded_batch_uses_double_encoding(emu: Emu) -> None:
    inner = "crm.deal.add?" + urlencode({"fields[TITLE]": "John&Martin"})
    r = requests.post(emu.webhook + "batch", data={"halt": "0", "cmd[a]": inner}, timeout=5)
    deal = r.json()["result"]["result"]["a"]
    assert emu.result("crm.deal.get", {"id": deal})["TITLE"] == "John&Martin"


def test_batch_counts_sub_calls_separately(emu: Emu) -> None:
    emu.control("DELETE", "requests")
    emu.result("batch", {"cmd": {"a": "crm.deal.fields", "b": "crm.deal.list", "c": "crm.deal.list"}})
    counts = emu.control("GET", "requests")
    assert counts["total"] == 1 and counts["by_method"] == {"batch": 1}
    assert counts["batch_commands"] == {"crm.deal.fields": 1, "crm.deal.list": 2}

"""Transport: URL shape, auth, parameter parsing, envelopes and each error body + HTTP status."""
from __future__ import annotations

import requests

from tests.emulators.test_bitrix24_support import Emu, emu, emu_server, start_emu  # noqa: F401

# Reference section 10.C, byte for byte
NOT_FOUND = '{"error":"","error_description":"Not found"}'
ITEM_NOT_FOUND = '{"error":"NOT_FOUND","error_description":"Element not found"}'
INVALID_CREDENTIALS = '{"error":"INVALID_CREDENTIALS","error_description":"Invalid request credentials"}'
METHOD_NOT_FOUND = '{"error":"ERROR_METHOD_NOT_FOUND","error_description":"Method not found!"}'


def test_wrong_code_or_user_is_401_invalid_credentials(emu: Emu) -> None:
    for path in ("/rest/1/wrongcode/crm.deal.list", f"/rest/7/{emu.portal.config.webhook_code}/crm.deal.list"):
        r = requests.post(emu.url + path, json={}, timeout=5)
        assert (r.status_code, r.text) == (401, INVALID_CREDENTIALS)
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_unknown_method_is_404(emu: Emu) -> None:
    r = emu.post("crm.deal.frobnicate", json={})
    assert (r.status_code, r.text) == (404, METHOD_NOT_FOUND)


def test_old_crm_errors_use_empty_code_and_400(emu: Emu) -> None:
    r = emu.post("crm.deal.get", json={"id": 410})
    assert (r.status_code, r.text) == (400, NOT_FOUND)
    r = emu.post("crm.deal.get", json={"id": "abc"})
    assert r.status_code == 400 and r.json() == {"error": "", "error_description": "ID is not defined or invalid."}
    r = emu.post("crm.deal.add", json={"fields": "nope"})
    assert r.json() == {"error": "", "error_description": "Parameter 'fields' must be array."}
    r = emu.post("crm.deal.list", json={"filter": "x"})
    assert r.json() == {"error": "", "error_description": "Parameter 'filter' must be array."}


def test_item_not_found_uses_code(emu: Emu) -> None:
    r = emu.post("crm.item.get", json={"entityTypeId": 2, "id": 999})
    assert (r.status_code, r.text) == (400, ITEM_NOT_FOUND)
    r = emu.post("crm.item.get", json={"entityTypeId": 4242, "id": 1})
    assert r.json() == {"error": "NOT_FOUND", "error_description": "Smart process not found"}


def test_scope_https_oauth_and_auth_type_errors() -> None:
    e = start_emu(scopes=["crm"])
    try:
        r = e.post("im.notify.system.add", json={"USER_ID": 1, "MESSAGE": "x"})
        assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
        r = e.post("event.bind", json={"event": "ONCRMDEALUPDATE", "handler": "https://x"})
        assert r.status_code == 403 and r.json() == {
            "error": "WRONG_AUTH_TYPE", "error_description": "Current authorization type is denied for this method"}
        r = requests.post(e.url + "/rest/crm.deal.list", json={"auth": "token"}, timeout=5)
        assert r.status_code == 401 and r.json() == {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
        e.control("POST", "webhook", {"require_https": True})
        r = e.post("crm.deal.list", json={})
        assert r.status_code == 400 and r.json() == {"error": "INVALID_REQUEST", "error_description": "Https required."}
        assert e.post("crm.deal.list", json={}, headers={"X-Forwarded-Proto": "https"}).status_code == 200
        e.control("POST", "limits", {"blocked": True})
        r = e.post("crm.deal.list", json={})
        assert r.status_code == 503 and r.json()["error"] == "OVERLOAD_LIMIT"
    finally:
        e.close()


def test_errors_carry_no_time_and_success_carries_time_with_zero_operating(emu: Emu) -> None:
    assert "time" not in emu.post("crm.deal.get", json={"id": 1}).json()
    body = emu.call("crm.deal.fields")
    assert set(body["time"]) == {"start", "finish", "duration", "processing", "date_start", "date_finish", "operating"}
    assert body["time"]["operating"] == 0


def test_method_name_case_json_suffix_and_get_query(emu: Emu) -> None:
    deal_id = emu.result("crm.deal.add", {"fields": {"TITLE": "Q"}})
    r = requests.get(f"{emu.webhook}CRM.Deal.Get.json?id={deal_id}", timeout=5)
    assert r.status_code == 200 and r.json()["result"]["TITLE"] == "Q"


def test_form_body_is_parsed_with_php_brackets(emu: Emu) -> None:
    r = requests.post(emu.webhook + "crm.deal.add", timeout=5,
                      data="FIELDS[TITLE]=A+%26+B&FIELDS[UF_CRM_NOPE]=1&params[REGISTER_SONET_EVENT]=N",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    deal_id = r.json()["result"]
    assert isinstance(deal_id, int)
    assert emu.result("crm.deal.get", {"ID": deal_id})["TITLE"] == "A & B"


def test_json_body_only_for_exact_json_content_type(emu: Emu) -> None:
    ok = requests.post(emu.webhook + "crm.deal.add", data='{"fields": {"TITLE": "J"}}', timeout=5,
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert isinstance(ok.json()["result"], int)
    plain = requests.post(emu.webhook + "crm.deal.add", data='{"fields": {"TITLE": "J"}}', timeout=5,
                          headers={"Content-Type": "text/plain"})
    assert plain.status_code == 400 and plain.json()["error_description"] == "Parameter 'fields' must be array."
    broken = requests.post(emu.webhook + "crm.deal.add", data='{"fields": ', timeout=5,
                           headers={"Content-Type": "application/json"})
    assert broken.json()["error_description"] == "Parameter 'fields' must be array."


def test_body_overrides_query(emu: Emu) -> None:
    first = emu.result("crm.deal.add", {"fields": {"TITLE": "first"}})
    second = emu.result("crm.deal.add", {"fields": {"TITLE": "second"}})
    r = requests.post(f"{emu.webhook}crm.deal.get?id={first}", data={"id": second}, timeout=5)
    assert r.json()["result"]["TITLE"] == "second"


def test_empty_php_arrays_are_json_lists(emu: Emu) -> None:
    deal_id = emu.result("crm.deal.add", {"fields": {"TITLE": "x"}})
    r = emu.post("crm.item.delete", json={"entityTypeId": 2, "id": deal_id})
    assert r.text.startswith('{"result":[],"time":')
    r = emu.post("batch", json={"halt": 0, "cmd": {"a": "crm.deal.fields"}})
    assert '"result_error":[],"result_total":[],"result_next":[]' in r.text


def test_add_returns_int_and_get_returns_strings(emu: Emu) -> None:
    deal_id = emu.result("crm.deal.add", {"fields": {"TITLE": "T", "OPPORTUNITY": 1000000, "COMPANY_ID": 0}})
    assert isinstance(deal_id, int)
    deal = emu.result("crm.deal.get", {"id": deal_id})
    assert deal["ID"] == str(deal_id) and deal["OPPORTUNITY"] == "1000000.00" and deal["COMPANY_ID"] is None
    assert deal["CATEGORY_ID"] == "0" and deal["STAGE_SEMANTIC_ID"] == "P" and deal["LEAD_ID"] is None
    assert emu.result("crm.deal.update", {"id": deal_id, "fields": {"TITLE": "U"}}) is True


def test_multipart_form_and_list_shaped_bodies(emu: Emu) -> None:
    r = requests.post(emu.webhook + "crm.deal.add", files={"fields[TITLE]": (None, "multi")}, timeout=5)
    assert emu.result("crm.deal.get", {"id": r.json()["result"]})["TITLE"] == "multi"
    r = requests.post(emu.webhook + "crm.deal.list", data="[1, 2]", timeout=5, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["total"] == 1

"""crm.deal/company/contact/requisite: CRUD, filters, order, select, paging, user fields, pipelines."""
from __future__ import annotations

from typing import Any

import pytest

from tests.emulators.test_bitrix24_support import Emu, FakeClock, emu, emu_server, start_emu  # noqa: F401


def add_deals(emu: Emu, count: int, **fields: Any) -> list[int]:
    cmd = {f"d{i}": "crm.deal.add?" + "&".join([f"fields[TITLE]=Deal%20{i}", f"fields[OPPORTUNITY]={i * 10}"] +
                                                 [f"fields[{k}]={v}" for k, v in fields.items()])
           for i in range(count)}
    ids: list[int] = []
    items = list(cmd.items())
    for n in range(0, len(items), 50):
        ids += list(emu.result("batch", {"halt": 0, "cmd": dict(items[n:n + 50])})["result"].values())
    return ids


def test_crud_round_trip(emu: Emu) -> None:
    deal_id = emu.result("crm.deal.add", {"fields": {"TITLE": "New", "COMMENTS": "[B]x[/B]", "UNKNOWN_FIELD": 1}})
    emu.result("crm.deal.update", {"ID": deal_id, "FIELDS": {"TITLE": "Renamed", "DATE_CREATE": "2001-01-01"}})
    deal = emu.result("crm.deal.get", {"ID": deal_id})
    assert deal["TITLE"] == "Renamed" and deal["COMMENTS"] == "[B]x[/B]"
    assert deal["DATE_CREATE"] != "2001-01-01T00:00:00+03:00"  # read-only fields are ignored
    assert "UNKNOWN_FIELD" not in deal and "CONTACT_IDS" not in deal
    assert emu.result("crm.deal.delete", {"id": deal_id}) is True
    assert emu.post("crm.deal.get", json={"id": deal_id}).status_code == 400
    assert emu.post("crm.deal.update", json={"id": deal_id, "fields": {}}).json()["error_description"] == "Not found"


def test_default_title_and_dates() -> None:
    clock = FakeClock(1_724_916_859)  # 2024-08-29 10:34:19 +03:00
    e = start_emu(clock=clock)
    try:
        deal_id = e.result("crm.deal.add", {"fields": {"BEGINDATE": "2024-08-30"}})
        deal = e.result("crm.deal.get", {"id": deal_id})
        assert deal["TITLE"] == f"Сделка #{deal_id}"
        assert deal["BEGINDATE"] == "2024-08-30T03:00:00+03:00"  # date-only: midnight UTC in portal offset
        assert deal["DATE_CREATE"] == deal["DATE_MODIFY"] == "2024-08-29T10:34:19+03:00"
        clock.advance(65)
        e.result("crm.deal.update", {"id": deal_id, "fields": {}})  # DATE_MODIFY moves on every update
        assert e.result("crm.deal.get", {"id": deal_id})["DATE_MODIFY"] == "2024-08-29T10:35:24+03:00"
    finally:
        e.close()


def test_date_modify_filter_for_reconciliation_sweeps() -> None:
    clock = FakeClock(1_724_916_859)
    e = start_emu(clock=clock)
    try:
        old = [e.result("crm.deal.add", {"fields": {"TITLE": f"old{i}"}}) for i in range(3)]
        clock.advance(3600)
        cursor = "2024-08-29T11:00:00+03:00"
        e.result("crm.deal.update", {"id": old[1], "fields": {"TITLE": "touched"}})
        fresh = e.result("crm.deal.add", {"fields": {"TITLE": "fresh"}})
        body = e.call("crm.deal.list", {"filter": {">DATE_MODIFY": cursor}, "order": {"DATE_MODIFY": "ASC", "ID": "ASC"},
                                        "select": ["ID", "DATE_MODIFY"]})
        assert [r["ID"] for r in body["result"]] == [str(old[1]), str(fresh)] and body["total"] == 2
        body = e.call("crm.deal.list", {"filter": {">=DATE_MODIFY": "29.08.2024 11:34:19"}, "select": ["ID"]})
        assert body["total"] == 2
    finally:
        e.close()


def test_filter_prefixes(emu: Emu) -> None:
    ids = add_deals(emu, 10)
    emu.result("crm.deal.update", {"id": ids[3], "fields": {"TITLE": "Special apple", "COMPANY_ID": 7}})

    def found(flt: dict[str, Any]) -> list[int]:
        return [int(r["ID"]) for r in emu.result("crm.deal.list", {"filter": flt, "select": ["ID"]})]

    assert found({">OPPORTUNITY": 70}) == ids[8:]
    assert found({">=OPPORTUNITY": 70, "<OPPORTUNITY": 90}) == ids[7:9]
    assert found({"<=ID": ids[1]}) == ids[:2]
    assert found({"@ID": [ids[0], ids[5]]}) == [ids[0], ids[5]]
    assert found({"!@ID": ids[1:]}) == ids[:1]
    assert found({"%TITLE": "APPLE"}) == [ids[3]]  # LIKE, case-insensitive
    assert found({"=%TITLE": "Deal 1%"}) == [ids[1]]
    assert found({"TITLE": "special APPLE"}) == [ids[3]]
    assert found({"!COMPANY_ID": ""}) == [ids[3]]
    assert found({"COMPANY_ID": ""}) == ids[:3] + ids[4:]
    assert found({"!=ID": ids[0], "<ID": ids[3]}) == ids[1:3]
    assert found({"=STAGE_ID": ["NEW", "WON"]}) == ids
    assert found({"NO_SUCH_FIELD": 1}) == ids  # unknown filter keys are ignored


def test_order_select_and_masks(emu: Emu) -> None:
    emu.result("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "TAGS", "USER_TYPE_ID": "string", "MULTIPLE": "Y"}})
    emu.result("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string"}})
    ids = add_deals(emu, 3)
    emu.result("crm.deal.update", {"id": ids[0], "fields": {"UF_CRM_TAGS": ["a", "b"], "UF_CRM_NOTE": "n"}})
    rows = emu.result("crm.deal.list", {"order": {"OPPORTUNITY": "DESC"}, "select": ["TITLE"]})
    assert [r["ID"] for r in rows] == [str(i) for i in reversed(ids)]
    assert set(rows[0]) == {"ID", "TITLE"}
    star = emu.result("crm.deal.list", {"select": ["*"]})[0]
    assert "TITLE" in star and "UF_CRM_NOTE" not in star and "CONTACT_IDS" not in star
    uf = emu.result("crm.deal.list", {"select": ["UF_*"], "filter": {"ID": ids[0]}})[0]
    assert uf == {"ID": str(ids[0]), "UF_CRM_TAGS": ["a", "b"], "UF_CRM_NOTE": "n"}
    default = emu.result("crm.deal.list", {"filter": {"ID": ids[0]}})[0]
    assert "TITLE" in default and default["UF_CRM_NOTE"] == "n"


def test_paging_is_fixed_at_50_and_page_aligned(emu: Emu) -> None:
    ids = add_deals(emu, 120)
    first = emu.call("crm.deal.list", {"select": ["ID"]})
    assert len(first["result"]) == 50 and first["next"] == 50 and first["total"] == 120
    odd = emu.call("crm.deal.list", {"select": ["ID"], "start": 73})
    assert odd["result"][0]["ID"] == str(ids[50]) and odd["next"] == 100
    last = emu.call("crm.deal.list", {"select": ["ID"], "start": 100})
    assert len(last["result"]) == 20 and "next" not in last
    fast = emu.call("crm.deal.list", {"select": ["ID"], "start": -1, "order": {"ID": "ASC"}, "filter": {">ID": ids[99]}})
    assert [r["ID"] for r in fast["result"]] == [str(i) for i in ids[100:]]
    assert "next" not in fast and fast["total"] == 0


def test_userfield_types_and_values(emu: Emu) -> None:
    specs = [("PARENT", "crm", {"SETTINGS": {"DEAL": "Y"}}), ("LINKS", "crm", {"MULTIPLE": "Y", "SETTINGS": {"DEAL": "Y", "COMPANY": "Y"}}),
             ("DUE", "date", {}), ("AT", "datetime", {}), ("COST", "money", {}), ("LATE", "boolean", {}),
             ("HOURS", "double", {}), ("WHO", "employee", {}),
             ("DEPT", "enumeration", {"LIST": [{"VALUE": "Logistics"}, {"VALUE": "Engineering", "DEF": "Y"}]})]
    for name, utype, extra in specs:
        assert isinstance(emu.result("crm.deal.userfield.add", {"fields": {"FIELD_NAME": name, "USER_TYPE_ID": utype, **extra}}), int)
    listed = {f["FIELD_NAME"]: f for f in emu.result("crm.deal.userfield.list", {"filter": {"LANG": "ru"}})}
    assert listed["UF_CRM_PARENT"]["SETTINGS"]["DEAL"] == "Y" and listed["UF_CRM_LINKS"]["MULTIPLE"] == "Y"
    dept = listed["UF_CRM_DEPT"]["LIST"]
    deal_id = emu.result("crm.deal.add", {"fields": {
        "UF_CRM_PARENT": "5", "UF_CRM_LINKS": ["D_7", "CO_5", "8"], "UF_CRM_DUE": "2024-04-19",
        "UF_CRM_AT": "2024-04-19T10:20:30+00:00", "UF_CRM_COST": "1500.5", "UF_CRM_LATE": "Y",
        "UF_CRM_HOURS": "2.5", "UF_CRM_WHO": 1}})
    deal = emu.result("crm.deal.get", {"id": deal_id})
    assert deal["UF_CRM_PARENT"] == "5" and deal["UF_CRM_LINKS"] == ["D_7", "CO_5", "8"]  # stored verbatim
    assert deal["UF_CRM_DUE"] == "2024-04-19T03:00:00+03:00" and deal["UF_CRM_AT"] == "2024-04-19T13:20:30+03:00"
    assert deal["UF_CRM_COST"] == "1500.5|RUB" and deal["UF_CRM_LATE"] == "1" and deal["UF_CRM_HOURS"] == "2.5"
    assert deal["UF_CRM_WHO"] == "1" and deal["UF_CRM_DEPT"] == dept[1]["ID"]  # enumeration default (DEF=Y)
    fields = emu.result("crm.deal.fields")
    assert fields["UF_CRM_LINKS"]["type"] == "crm" and fields["UF_CRM_LINKS"]["isMultiple"] is True
    assert fields["UF_CRM_LINKS"]["isDynamic"] is True and fields["UF_CRM_DEPT"]["items"][0]["VALUE"] == "Logistics"
    assert fields["CATEGORY_ID"]["isImmutable"] is True and fields["STAGE_ID"]["statusType"] == "DEAL_STAGE"
    assert emu.result("crm.deal.list", {"filter": {"UF_CRM_LINKS": "CO_5"}, "select": ["ID"]}) == [{"ID": str(deal_id)}]


def test_userfield_add_validation(emu: Emu) -> None:
    def err(fields: dict[str, Any]) -> str:
        r = emu.post("crm.deal.userfield.add", json={"fields": fields})
        assert r.status_code == 400 and r.json()["error"] == ""
        return r.json()["error_description"]

    assert err({"USER_TYPE_ID": "string"}) == "The 'FIELD_NAME' field is not found."
    assert err({"FIELD_NAME": "X"}) == "The 'USER_TYPE_ID' field is not found."
    assert err({"FIELD_NAME": "bad-name", "USER_TYPE_ID": "string"}).startswith("Field name contains invalid characters")
    assert err({"FIELD_NAME": "X" * 50, "USER_TYPE_ID": "string"}) == "Field name is too long (more than 50 characters)."
    assert err({"FIELD_NAME": "X", "USER_TYPE_ID": "nope"}) == "Invalid custom type specified"
    emu.result("crm.company.userfield.add", {"fields": {"FIELD_NAME": "HEAD", "USER_TYPE_ID": "crm"}})
    head = emu.result("crm.company.userfield.list", {})[0]
    assert head["SETTINGS"]["LEAD"] == "Y"  # no entity enabled → LEAD=Y


def test_pipelines_and_stages(emu: Emu) -> None:
    cat = emu.result("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Logistics", "sort": 200}})["category"]
    assert cat["id"] == 1 and cat["isDefault"] == "N"
    categories = emu.call("crm.category.list", {"entityTypeId": 2})
    assert {c["id"] for c in categories["result"]["categories"]} == {0, 1} and categories["total"] == 2
    stages = emu.result("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE_1"}})
    assert [s["STATUS_ID"] for s in stages][:2] == ["C1:NEW", "C1:PREPARATION"]
    won = next(s for s in stages if s["STATUS_ID"] == "C1:WON")
    assert won["SEMANTICS"] == "S" and won["EXTRA"]["SEMANTICS"] == "success" and won["CATEGORY_ID"] == "1"
    default_new = emu.result("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "NEW"}})[0]
    assert default_new["CATEGORY_ID"] is None and default_new["SEMANTICS"] is None
    assert emu.result("crm.dealcategory.stage.list", {"id": 1})[0] == {"NAME": "New", "SORT": "10", "STATUS_ID": "C1:NEW"}
    assert emu.result("crm.dealcategory.status", {"id": 1}) == "DEAL_STAGE_1"
    deal_id = emu.result("crm.deal.add", {"fields": {"CATEGORY_ID": 1}})
    assert emu.result("crm.deal.get", {"id": deal_id})["STAGE_ID"] == "C1:NEW"
    emu.result("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "C1:LOSE", "CATEGORY_ID": 0}})
    deal = emu.result("crm.deal.get", {"id": deal_id})
    assert (deal["CATEGORY_ID"], deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("1", "C1:LOSE", "F", "Y")
    emu.result("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})  # other pipeline's stage: ignored
    assert emu.result("crm.deal.get", {"id": deal_id})["STAGE_ID"] == "C1:LOSE"


def test_companies_contacts_and_multifields(emu: Emu) -> None:
    head = emu.result("crm.company.add", {"fields": {"TITLE": "Holding"}})
    emu.result("crm.company.userfield.add", {"fields": {"FIELD_NAME": "HEAD_COMPANY", "USER_TYPE_ID": "crm",
                                                        "SETTINGS": {"COMPANY": "Y"}}})
    sub = emu.result("crm.company.add", {"fields": {"TITLE": "Sub", "UF_CRM_HEAD_COMPANY": f"CO_{head}",
                                                    "PHONE": [{"VALUE": "+7 495 1", "VALUE_TYPE": "WORK"}]}})
    company = emu.result("crm.company.get", {"id": sub})
    assert company["UF_CRM_HEAD_COMPANY"] == f"CO_{head}" and company["HAS_PHONE"] == "Y"
    phone = company["PHONE"][0]
    assert phone["VALUE"] == "+7 495 1" and phone["TYPE_ID"] == "PHONE" and phone["VALUE_TYPE"] == "WORK"
    emu.result("crm.company.update", {"id": sub, "fields": {"PHONE": [{"VALUE": "+7 2"}]}})  # appended
    emu.result("crm.company.update", {"id": sub, "fields": {"PHONE": [{"ID": phone["ID"], "VALUE": ""}]}})  # deleted
    assert [p["VALUE"] for p in emu.result("crm.company.get", {"id": sub})["PHONE"]] == ["+7 2"]
    assert "PHONE" not in emu.result("crm.company.list", {"select": ["*"]})[0]  # `*` skips multiple fields
    contact = emu.result("crm.contact.add", {"fields": {"NAME": "Ivan", "COMPANY_ID": sub}})
    assert emu.result("crm.contact.get", {"id": contact})["COMPANY_ID"] == str(sub)


def test_requisites_and_bank_details(emu: Emu) -> None:
    company = emu.result("crm.company.add", {"fields": {"TITLE": "Romashka"}})
    r = emu.post("crm.requisite.add", json={"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": 999, "PRESET_ID": 1, "NAME": "x"}})
    assert r.status_code == 400 and r.json()["error"] == ""
    req = emu.result("crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company, "PRESET_ID": 1,
                                                      "NAME": "Main", "RQ_INN": "7701234567"}})
    bank = emu.result("crm.requisite.bankdetail.add", {"fields": {"ENTITY_ID": req, "NAME": "Acc", "RQ_BIK": "044525000"}})
    assert emu.result("crm.requisite.list", {"filter": {"ENTITY_ID": company}})[0]["RQ_INN"] == "7701234567"
    assert emu.result("crm.requisite.bankdetail.get", {"id": bank})["RQ_BIK"] == "044525000"
    assert emu.result("crm.requisite.preset.list")[0]["NAME"] == "Организация"


@pytest.mark.parametrize("start,expected_next", [(0, 50), (49, 50), (50, None)])
def test_status_list_paging(emu: Emu, start: int, expected_next: int | None) -> None:
    body = emu.call("crm.status.list", {"start": start})
    assert body["total"] < 100 and body.get("next") == (expected_next if body["total"] > 50 else None)

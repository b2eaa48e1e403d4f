"""Outgoing events: exact form payload with application_token, fired for REST changes, knobs."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import requests

from tests.emulators.test_bitrix24_support import (Emu, FakeClock, Receiver, emu, emu_server,  # noqa: F401
                                                   receiver, start_emu)

# Reference section 10.A, raw form
SAMPLE = ("event=ONCRMDEALUPDATE&event_handler_id=975&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124"
          "&auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome-domain.bitrix24.com%2Frest%2F"
          "&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&auth%5Bmember_id%5D=d897063e1ce7c5eb9f04b9751eef5915"
          "&auth%5Bapplication_token%5D=jvh9y1ulvt2m6k5or90v9mg8nn32ozas")


def ids_of(hits: list[dict[str, Any]]) -> list[str]:
    return [dict(parse_qsl(h["body"]))["data[FIELDS][ID]"] for h in hits]


def subscribe(emu: Emu, receiver: Receiver, *events: str) -> None:
    for event in events:
        emu.control("POST", "handlers", {"event": event, "url": receiver.url})


def test_payload_is_byte_for_byte_the_reference_form(receiver: Receiver) -> None:
    seed = {"portal": {"domain": "some-domain.bitrix24.com", "member_id": "d897063e1ce7c5eb9f04b9751eef5915",
                       "application_token": "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"},
            "deals": [{"ID": 7405, "TITLE": "Deal"}],
            "handlers": [{"event": "onCrmDealUpdate", "url": receiver.url, "id": 975}]}
    e = start_emu(seed, clock=FakeClock(1_766_047_124))
    try:
        assert e.result("crm.deal.update", {"id": 7405, "fields": {"TITLE": "x"}}) is True
        hit = receiver.wait_for(1)[0]
        assert hit["body"] == SAMPLE
        assert hit["content_type"] == "application/x-www-form-urlencoded"
        assert hit["form"]["auth[application_token]"] == "jvh9y1ulvt2m6k5or90v9mg8nn32ozas"
        assert hit["user_agent"] == "Bitrix24 Webhook Engine"
    finally:
        e.close()


def test_rest_changes_fire_add_update_delete_including_batch_and_item_api(emu: Emu, receiver: Receiver) -> None:
    subscribe(emu, receiver, "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMCOMPANYADD")
    deal = emu.result("crm.deal.add", {"fields": {"TITLE": "x"}})
    emu.result("batch", {"cmd": {"u": f"crm.deal.update?id={deal}&fields[TITLE]=y"}})
    emu.result("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"title": "z"}})
    emu.result("crm.deal.delete", {"id": deal})
    emu.result("crm.contact.add", {"fields": {"NAME": "not subscribed"}})
    assert emu.portal.events.flush()
    events = [(dict(parse_qsl(h["body"]))["event"], dict(parse_qsl(h["body"]))["data[FIELDS][ID]"]) for h in receiver.hits]
    assert events == [("ONCRMDEALADD", str(deal)), ("ONCRMDEALUPDATE", str(deal)), ("ONCRMDEALUPDATE", str(deal)),
                      ("ONCRMDEALDELETE", str(deal))]
    form = dict(parse_qsl(receiver.hits[0]["body"]))
    assert form["auth[application_token]"] == emu.portal.config.application_token and "auth[access_token]" not in form


def test_smart_process_and_task_event_data(emu: Emu, receiver: Receiver) -> None:
    emu.portal.seed = None
    from emulators.bitrix24.seed import apply_seed
    apply_seed(emu.portal, {"smart_processes": [{"entityTypeId": 1030, "title": "SP"}]})
    subscribe(emu, receiver, "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_1030", "ONTASKADD")
    item = emu.result("crm.item.add", {"entityTypeId": 1030, "fields": {"title": "t"}})["item"]
    task = emu.result("tasks.task.add", {"fields": {"TITLE": "t", "RESPONSIBLE_ID": 1}})["task"]
    assert emu.portal.events.flush()
    forms = [dict(parse_qsl(h["body"])) for h in receiver.hits]
    assert forms[0]["event"] == "ONCRMDYNAMICITEMADD" and forms[1]["event"] == "ONCRMDYNAMICITEMADD_1030"
    assert forms[0]["data[FIELDS][ID]"] == str(item["id"]) and forms[0]["data[FIELDS][ENTITY_TYPE_ID]"] == "1030"
    assert forms[2]["data[FIELDS_AFTER][ID]"] == task["id"] and forms[2]["data[IS_ACCESSIBLE_AFTER]"] == "undefined"


def test_drop_duplicate_script_and_rates(emu: Emu, receiver: Receiver) -> None:
    subscribe(emu, receiver, "ONCRMDEALUPDATE")
    deal = emu.result("crm.deal.add", {"fields": {"TITLE": "x"}})
    emu.control("POST", "events/settings", {"script": ["drop", "duplicate", "ok"]})
    for title in ("a", "b", "c"):
        emu.result("crm.deal.update", {"id": deal, "fields": {"TITLE": title}})
    assert emu.control("POST", "events/flush")["flushed"] is True
    assert len(receiver.hits) == 3 and receiver.hits[0]["body"] == receiver.hits[1]["body"]
    log = emu.control("GET", "events/log")["events"]
    assert [e["fate"] for e in log] == ["dropped", "delivered", "delivered", "delivered"]
    assert [e["duplicate"] for e in log] == [False, False, True, False]
    emu.control("POST", "events/settings", {"drop_rate": 1.0})
    emu.result("crm.deal.update", {"id": deal, "fields": {"TITLE": "d"}})
    emu.portal.events.flush()
    assert len(receiver.hits) == 3


def test_reorder_window_and_pause(emu: Emu, receiver: Receiver) -> None:
    subscribe(emu, receiver, "ONCRMDEALADD")
    emu.control("POST", "events/settings", {"reorder_window": 4, "reorder_mode": "reverse"})
    ids = [emu.result("crm.deal.add", {"fields": {"TITLE": str(i)}}) for i in range(4)]
    emu.portal.events.flush()
    assert ids_of(receiver.hits) == [str(i) for i in reversed(ids)]
    receiver.hits.clear()
    emu.control("POST", "events/settings", {"reorder_window": 6, "seed": 7})
    ids = [emu.result("crm.deal.add", {"fields": {"TITLE": str(i)}}) for i in range(6)]
    emu.portal.events.flush()
    got = ids_of(receiver.hits)
    assert sorted(got) == sorted(str(i) for i in ids) and got != [str(i) for i in ids]
    receiver.hits.clear()
    emu.control("POST", "events/settings", {"paused": True})
    emu.result("crm.deal.add", {"fields": {"TITLE": "held"}})
    assert emu.control("GET", "events/log")["pending"] == 1 and receiver.hits == []
    emu.control("POST", "events/flush")
    assert len(receiver.hits) == 1


def test_delay_holds_delivery_until_due_or_flushed(emu: Emu, receiver: Receiver) -> None:
    subscribe(emu, receiver, "ONCRMDEALADD")
    emu.control("POST", "events/settings", {"delay_seconds": 30})
    emu.result("crm.deal.add", {"fields": {"TITLE": "late"}})
    assert emu.portal.events.pending() == 1 and receiver.hits == []
    emu.portal.events.flush()
    assert len(receiver.hits) == 1


def test_failed_delivery_is_never_retried(emu: Emu, receiver: Receiver) -> None:
    receiver.status[0] = 500
    subscribe(emu, receiver, "ONCRMDEALADD")
    emu.control("POST", "handlers", {"event": "ONCRMDEALADD", "url": "http://127.0.0.1:9/unreachable"})
    emu.result("crm.deal.add", {"fields": {"TITLE": "lost"}})
    emu.portal.events.flush()
    log = emu.control("GET", "events/log")["events"]
    by_url = {e["url"]: e for e in log}
    assert len(log) == 2 and all(e["fate"] == "failed" for e in log)
    assert by_url[receiver.url]["status"] == 500 and by_url["http://127.0.0.1:9/unreachable"]["error"]
    assert len(receiver.hits) == 1


def test_handler_writing_back_reproduces_the_update_loop(emu: Emu, receiver: Receiver) -> None:
    deal = emu.result("crm.deal.add", {"fields": {"TITLE": "loop"}})
    subscribe(emu, receiver, "ONCRMDEALUPDATE")

    def naive_handler(hit: dict[str, Any]) -> None:
        if len(receiver.hits) < 5:  # a real loop never stops; cap it for the test
            requests.post(emu.webhook + "crm.deal.update", json={"id": deal, "fields": {"COMMENTS": "touched"}}, timeout=5)

    receiver.on_hit.append(naive_handler)
    emu.result("crm.deal.update", {"id": deal, "fields": {"TITLE": "start"}})
    hits = receiver.wait_for(5)
    assert len(hits) >= 5 and set(ids_of(hits)) == {str(deal)}
    emu.portal.events.flush()


def test_handler_management(emu: Emu) -> None:
    added = emu.control("POST", "handlers", {"handlers": [{"event": "onCrmDealAdd", "url": "http://h/1"},
                                                          {"event": "ONCRMDEALUPDATE", "url": "http://h/2",
                                                           "application_token": "tok", "id": 42}]})
    assert added[0]["event"] == "ONCRMDEALADD" and added[1]["id"] == 42 and added[1]["application_token"] == "tok"
    assert emu.control("DELETE", "handlers/42") == {"removed": 1}
    assert [h["url"] for h in emu.control("GET", "handlers")] == ["http://h/1"]

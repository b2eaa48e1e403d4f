"""EDO (S20) end to end: the Diadoc and SBIS emulators over HTTP → the relay's pollers → rules →
the document item and its deal in the emulated Bitrix24 portal."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests
from sqlalchemy import select

from connectors.edo.http import EdoApiError
from emulators.common.server import RunningServer, serve_in_thread
from emulators.diadoc import create_app as create_diadoc
from emulators.sbis import create_app as create_sbis
from relay.store.schema import InboxEvent
from tests.connectors.portal_support import Portal, start_portal
from tests.support.bitrix24 import ROOT

DIADOC_TOKEN = "demo-diadoc-token-0123456789"
SBIS_DOC = "019f69a7-5e3d-74f1-bcca-a1612a488da0"


class World:
    def __init__(self, portal: Portal, diadoc: RunningServer, sbis: RunningServer) -> None:
        self.portal, self.diadoc, self.sbis = portal, diadoc, sbis
        self.edo = portal.runtime.connector("edo")

    def item(self, item_id: int) -> dict[str, Any]:
        return self.portal.call("crm.item.get", {"entityTypeId": 1036, "id": item_id})["item"]

    def control(self, server: RunningServer, path: str, body: dict[str, Any] | None = None) -> Any:
        return requests.post(f"{server.url}/_emulator/{path}", json=body or {}, timeout=10).json()

    def edo_events(self) -> list[InboxEvent]:
        with self.portal.runtime.store.session() as s:
            return list(s.scalars(select(InboxEvent).where(InboxEvent.source == "edo").order_by(InboxEvent.id)))


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[World]:
    diadoc, sbis = serve_in_thread(create_diadoc()), serve_in_thread(create_sbis())
    enabled = (ROOT / "rules" / "portal_edo.yaml").read_text(encoding="utf-8").replace("enabled: false", "enabled: true")
    connectors = f"""\
  edo:
    diadoc:
      base_url: {diadoc.url}
      token: {DIADOC_TOKEN}
      box_id: our-box@diadoc.ru
      poll_interval_seconds: 0
    sbis:
      base_url: {sbis.url}
      login: relay-api
      password: demo-sbis-password
      inn: "7723456789"
      kpp: "772301001"
      start: "01.01.2020 00.00.00"
      poll_interval_seconds: 0
"""
    portal = start_portal(db_url, write_config, tmp_path, rules=("portal_edo",), connectors=connectors,
                          extra_files={"rules/portal_edo.yaml": enabled})
    # Contract item 1 (deal 3) was sent through Diadoc: the sender stored the message id on it.
    portal.call("crm.item.update", {"entityTypeId": 1036, "id": 1, "fields": {"xmlId": "msg-contract-15-24"}})
    yield World(portal, diadoc, sbis)
    portal.stop()
    diadoc.stop()
    sbis.stop()


def test_diadoc_signature_moves_the_item_and_tells_the_deal(world: World) -> None:
    world.control(world.diadoc, "documents/msg-contract-15-24/sign")
    assert world.edo.diadoc.poll() == 2  # "sent" and "signed": both events read the document as signed now
    world.portal.settle()
    assert world.item(1)["stageId"] == "DT1036_10:SUCCESS"
    deal = world.portal.deal(3)
    assert deal["UF_CRM_EDO_STATUS"] == "Подписан (diadoc, № 15/24)"
    assert deal["UF_CRM_CONTRACT_DATE"].startswith("2026-02-01")
    assert world.edo.diadoc.poll() == 0  # the cursor moved past both events
    assert [e.status for e in world.edo_events()] == ["done", "done"]


def test_diadoc_rejection_through_pages_overload_and_an_expired_subscription(world: World) -> None:
    for n in range(3):  # documents with no item on the portal: read, traced, nothing changed
        world.control(world.diadoc, "documents", {"title": f"Акт {n}", "number": f"A-{n}", "date": "02.02.2026"})
    world.control(world.diadoc, "documents/msg-contract-15-24/reject")
    world.control(world.diadoc, "knobs", {"page_size": 2, "fail_next": 1, "fail_status": 402})
    with pytest.raises(EdoApiError, match="402"):
        world.edo.diadoc.poll()
    assert world.edo_events() == []
    world.control(world.diadoc, "knobs", {"fail_next": 2, "fail_status": 429})  # retried, then served
    assert world.edo.diadoc.poll() == 5
    world.portal.settle()
    assert world.item(1)["stageId"] == "DT1036_10:FAIL"
    assert world.portal.deal(3)["UF_CRM_EDO_STATUS"] == "Отклонён (diadoc, № 15/24)"
    kinds = [e.kind for e in world.edo_events()]
    assert kinds.count("document.rejected") == 2 and kinds.count("document.waiting") == 3


def test_sbis_approval_and_rejection_with_a_session_that_expires(world: World) -> None:
    act = world.portal.call("crm.item.add", {"entityTypeId": 1036, "fields": {"title": "Акт № 15", "parentId2": 1, "xmlId": SBIS_DOC}})["item"]
    world.control(world.sbis, "documents/" + SBIS_DOC + "/approve")
    assert world.edo.sbis.poll() == 1  # the act is listed once per event; one inbox event with the latest
    world.portal.settle()
    assert world.item(act["id"])["stageId"] == "DT1036_10:SUCCESS"
    assert world.portal.deal(1)["UF_CRM_EDO_STATUS"] == "Подписан (sbis, № 15)"
    other = world.control(world.sbis, "documents", {"number": "16", "date": "03.02.2026", "amount": "500.00"})
    second = world.portal.call("crm.item.add", {"entityTypeId": 1036, "fields": {"title": "Акт № 16", "parentId2": 1,
                                                                                  "xmlId": other["Идентификатор"]}})["item"]
    world.control(world.sbis, f"documents/{other['Идентификатор']}/reject")
    world.control(world.sbis, "sessions/expire")
    assert world.edo.sbis.poll() == 1  # logged in again, and only what came after the cursor
    world.portal.settle()
    assert world.item(second["id"])["stageId"] == "DT1036_10:FAIL"
    assert world.portal.deal(1)["UF_CRM_EDO_STATUS"] == "Отклонён (sbis, № 16)"
    assert world.edo.sbis.poll() == 0
    assert [e.kind for e in world.edo_events()] == ["document.signed", "document.rejected"]

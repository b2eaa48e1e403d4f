"""Bitrix24 ↔ Planfix (S25) after failures: a crash between a write and its record (the retry finds the
task and the timeline comment instead of writing them twice), and news about a deal deleted meanwhile."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from relay.effects import Effects
from relay.store.schema import DeadLetter, InboxEvent
from tests.connectors.bridge_support import Bridge, bridge, planfix_server

__all__ = ["bridge", "planfix_server"]


def crash_after_write(monkeypatch: pytest.MonkeyPatch, key_prefix: str) -> list[str]:
    """The worker dies once right after the write whose effect key starts with `key_prefix`, before
    recording it: the effect stays `started` and the event is retried. Returns the keys it "crashed" on."""
    crashed: list[str] = []
    finish = Effects._finish

    def dying(self: Effects, key: str, written: Any) -> None:
        if key.startswith(key_prefix) and not crashed:
            crashed.append(key)
            raise RuntimeError("worker died between the write and its record")
        finish(self, key, written)

    monkeypatch.setattr(Effects, "_finish", dying)
    return crashed


def test_a_task_created_just_before_a_crash_is_found_not_doubled(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    crashed = crash_after_write(monkeypatch, "bridge-deal-to-planfix|")
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    assert crashed and crashed[0].endswith("|create")
    [task] = bridge.tasks()                                           # found by its «Сделка Bitrix24» field
    assert bridge.runtime.links.get("planfix.task", "bitrix24:deal:1") == str(task["id"])
    assert bridge.deal(1)["UF_CRM_PLANFIX_TASK"] == str(task["id"])
    assert any(m.startswith("planfix_sync_task: it exists already") for m in bridge.steps("effect.found"))


def test_a_timeline_comment_written_just_before_a_crash_is_found(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    [task] = bridge.tasks()
    crashed = crash_after_write(monkeypatch, "bridge-planfix-status-to-deal|")
    bridge.status(task["id"], 2)
    bridge.settle()
    assert crashed
    assert len(bridge.timeline(1)) == 1
    assert any(m.startswith("bitrix24_timeline_comment: it exists already") for m in bridge.steps("effect.found"))
    bridge.status(task["id"], 3)
    bridge.settle()
    bridge.status(task["id"], 2)        # the same text may come again later: a new status change is a new comment
    bridge.settle()
    assert [c.split("»: статус ")[1].split("\n")[0] for c in bridge.timeline(1)] == [
        "«В работе» (был «Новая»).", "«На согласовании» (был «В работе»).", "«В работе» (был «На согласовании»)."]


def test_news_of_a_deleted_deal_is_skipped_not_failed(bridge: Bridge) -> None:
    bridge.move(1, STAGE_ID="EXECUTING")
    bridge.settle()
    [task] = bridge.tasks()
    bridge.call("crm.deal.delete", {"id": 1})
    bridge.settle()
    bridge.status(task["id"], 2)
    bridge.settle()
    assert "deal 1 no longer exists: no timeline comment written" in bridge.steps("skip")
    with bridge.runtime.store.session() as s:
        assert s.scalar(select(DeadLetter.id)) is None
        assert set(s.scalars(select(InboxEvent.status))) == {"done"}

"""Flood control: 429 exactly past the limits, retry_after from the real window (clock is frozen)."""
from __future__ import annotations

import datetime as dtm

import pytest
from telegram.error import RetryAfter

from tests.emulators.test_telegram_helpers import (ANNA, CLIENT_SG, OLGA, STAFF, Emu, _emulator, emu, run)

__all__ = ["_emulator", "emu"]


def send(emu: Emu, chat_id: int, text: str = "x") -> tuple[int, int | None]:
    """(HTTP status, retry_after) of one sendMessage."""
    resp = emu.api("sendMessage", json={"chat_id": chat_id, "text": text})
    return resp.status_code, (resp.json().get("parameters") or {}).get("retry_after")


def new_groups(emu: Emu, n: int) -> list[int]:
    return [emu.post("chats", type="supergroup", title=f"Клиент {i}", members=[ANNA])["id"] for i in range(n)]


def test_overall_thirty_per_second(emu: Emu) -> None:
    chats = new_groups(emu, 11)
    for chat_id in chats[:10]:
        for _ in range(3):
            assert send(emu, chat_id) == (200, None)
    assert send(emu, chats[10]) == (429, 1)
    emu.advance(1)
    assert send(emu, chats[10]) == (200, None)


def test_twenty_per_minute_in_one_group(emu: Emu) -> None:
    for second in range(20):
        assert send(emu, CLIENT_SG, f"#{second}") == (200, None)
        emu.advance(1)
    # 20 sends at t=0…19; now t=20: the first leaves the minute window at t=60
    assert send(emu, CLIENT_SG) == (429, 40)
    emu.advance(39)
    assert send(emu, CLIENT_SG)[0] == 429
    emu.advance(1)
    assert send(emu, CLIENT_SG) == (200, None)
    assert send(emu, STAFF) == (200, None)  # other groups are not affected


def test_one_chat_allows_a_short_burst_then_about_one_per_second(emu: Emu) -> None:
    for _ in range(3):
        assert send(emu, OLGA) == (200, None)
    assert send(emu, OLGA) == (429, 3)
    emu.advance(1)
    assert send(emu, OLGA) == (429, 2)
    emu.advance(2)
    assert send(emu, OLGA) == (200, None)


def test_ptb_sees_retry_after_and_the_counter_counts(emu: Emu, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    for _ in range(3):
        send(emu, STAFF)

    async def main() -> None:
        async with emu.bot() as bot:
            await bot.send_message(STAFF, "ещё")

    with pytest.raises(RetryAfter) as info:
        run(main())
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    send(emu, STAFF)
    stats = emu.get("stats")
    assert stats["too_many_requests_total"] == 2 and stats["flood_control_refusals"] == 2


def test_refused_sends_do_not_use_up_the_window(emu: Emu) -> None:
    for _ in range(3):
        send(emu, STAFF)
    for _ in range(5):
        assert send(emu, STAFF)[0] == 429
    emu.advance(3)
    for _ in range(3):
        assert send(emu, STAFF) == (200, None)


def test_edits_and_reads_are_not_counted(emu: Emu) -> None:
    for _ in range(3):
        send(emu, STAFF)
    for i in range(10):
        assert emu.api("editMessageText", json={"chat_id": STAFF, "message_id": 1, "text": f"v{i}"}).ok
        assert emu.api("getChat", json={"chat_id": STAFF}).ok


def test_limits_are_switchable(emu: Emu) -> None:
    emu.post("limits", enabled=False)
    for _ in range(40):
        assert send(emu, STAFF) == (200, None)
    emu.post("limits", enabled=True, per_chat={"count": 1, "seconds": 1.0})
    assert send(emu, CLIENT_SG) == (200, None)
    assert send(emu, CLIENT_SG) == (429, 1)
    assert emu.get("limits")["per_chat"] == {"count": 1, "seconds": 1.0}

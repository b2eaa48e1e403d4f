"""S11 reminders: "2 working days" after the link was sent, on the core's calendar (Russian public
holidays and transferred working days, plus the override file for late decrees). The clock the
timers read is moved instead of waited for: the send happens at a chosen moment, then the
scheduler's tick is run just before and just after the reminder is due."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import relay.actions.builtin
import relay.timers
from relay.store.schema import Timer
from tests.connectors.test_forms_world import Brief, brief, brief_extra, gf_server
from tests.connectors.test_telegram_helpers import _emulator, emu
from tests.emulators.test_planfix_fixtures import pf, pf_server
from tests.emulators.test_telegram_helpers import CLIENT_SG

__all__ = ["brief", "brief_extra", "gf_server", "_emulator", "emu", "pf", "pf_server"]
REMINDER = "К сожалению, Вы пока не заполнили бриф. Какие есть сложности? Как мы можем помочь?"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _send_at(brief: Brief, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> datetime:
    """Press the button at `moment`; returns when the reminder is due."""
    monkeypatch.setattr(relay.actions.builtin, "utcnow", lambda: moment)
    brief.press()
    brief.agency.settle()
    with brief.runtime.store.session() as s:
        [timer] = s.scalars(select(Timer).where(Timer.kind == "brief.reminder")).all()
        due = timer.fire_at if timer.fire_at.tzinfo else timer.fire_at.replace(tzinfo=timezone.utc)
    return due


def _tick_at(brief: Brief, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> int:
    monkeypatch.setattr(relay.timers, "utcnow", lambda: moment)
    fired = brief.scheduler().tick()
    brief.agency.settle()
    return fired


@pytest.mark.parametrize("sent, due", [
    ("2025-10-17T07:00:00", "2025-10-21T07:00:00"),   # Friday → Tuesday: the weekend is skipped
    ("2025-10-30T07:00:00", "2025-11-01T07:00:00"),   # Thursday → Saturday 1 November 2025, a working day by decree
    ("2025-10-31T07:00:00", "2025-11-05T07:00:00"),   # Friday → Wednesday: Sat works, Sun, 3 Nov (moved day off), 4 Nov (holiday) do not
])
def test_the_reminder_comes_two_working_days_later(brief: Brief, monkeypatch: pytest.MonkeyPatch, sent: str, due: str) -> None:
    assert _send_at(brief, monkeypatch, _utc(sent)) == _utc(due)
    link = brief.link(CLIENT_SG)
    assert _tick_at(brief, monkeypatch, _utc(due) - timedelta(minutes=1)) == 0
    assert not any(t.startswith(REMINDER) for t in brief.agency.tg.texts(CLIENT_SG))
    assert _tick_at(brief, monkeypatch, _utc(due) + timedelta(minutes=1)) == 1
    reminder = brief.agency.tg.texts(CLIENT_SG)[-1]
    assert reminder.startswith(REMINDER) and link in reminder.replace("&amp;", "&")
    assert _tick_at(brief, monkeypatch, _utc(due) + timedelta(days=3)) == 0      # once
    assert sum(t.startswith(REMINDER) for t in brief.agency.tg.texts(CLIENT_SG)) == 1


LATE_DECREE = {"config": "calendar: {country: RU, overrides: calendar.yaml}\n",
               "files": {"calendar.yaml": "# decrees newer than the holidays package\nholidays: [2025-11-05]\nworkdays: []\n"}}


@pytest.mark.parametrize("brief_extra", [LATE_DECREE])
def test_the_override_file_patches_a_late_decree(brief: Brief, monkeypatch: pytest.MonkeyPatch) -> None:
    # Friday 31 October: Saturday works, Sunday, 3 and 4 November do not, and now 5 November neither
    due = _send_at(brief, monkeypatch, _utc("2025-10-31T07:00:00"))
    assert due == _utc("2025-11-06T07:00:00")
    assert _tick_at(brief, monkeypatch, _utc("2025-11-05T12:00:00")) == 0
    assert _tick_at(brief, monkeypatch, _utc("2025-11-06T07:01:00")) == 1
    assert brief.agency.tg.texts(CLIENT_SG)[-1].startswith(REMINDER)


def test_a_bad_override_file_stops_the_relay_naming_the_line(tmp_path, write_config) -> None:  # type: ignore[no-untyped-def]
    from relay.config.errors import ConfigError
    from tests.support.relay import base_config, make_runtime
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}", "calendar: {overrides: calendar.yaml}\n"),
                          **{"calendar.yaml": "holidays:\n  - 2025-11-05\n  - пятое ноября\nworkdays: [2025-11-08]\nextra: 1\n"})
    with pytest.raises(ConfigError) as caught:
        make_runtime(config)
    text = str(caught.value)
    assert "calendar.yaml:3: holidays[1]: 'пятое ноября' is not a date" in text
    assert "calendar.yaml:5: extra: unknown key" in text

"""Change detection against a real store: diffs, creation, echo suppression of own writes."""
from __future__ import annotations

from relay.changes import Snapshots, canonical
from relay.store import Store


def snapshots(db_url: str) -> Snapshots:
    store = Store(db_url)
    store.migrate()
    return Snapshots(store)


def test_first_sight_then_diff(db_url: str) -> None:
    snaps = snapshots(db_url)
    first = snaps.observe("b24:deal:1", {"STAGE_ID": "C1:NEW", "OPPORTUNITY": "100.00"})
    assert first.created and bool(first)
    same = snaps.observe("b24:deal:1", {"STAGE_ID": "C1:NEW", "OPPORTUNITY": "100"})
    assert not same and same.fields == {}
    moved = snaps.observe("b24:deal:1", {"STAGE_ID": "C1:EVALUATE", "OPPORTUNITY": "100.00"})
    assert moved.fields == {"STAGE_ID": ("C1:NEW", "C1:EVALUATE")}
    assert moved.entered("STAGE_ID", "C1:EVALUATE") and moved.left("STAGE_ID", "C1:NEW") and not moved.entered("STAGE_ID", "C1:NEW")


def test_echo_of_own_write_is_not_a_change_but_a_human_edit_is(db_url: str) -> None:
    snaps = snapshots(db_url)
    snaps.observe("b24:deal:2", {"UF_COST": "", "TITLE": "A"})
    snaps.record_writes("b24:deal:2", {"UF_COST": 1500})
    echo = snaps.observe("b24:deal:2", {"UF_COST": "1500.00", "TITLE": "A"})
    assert not echo and echo.echoes == ["UF_COST"]
    # The own write is consumed: the same value arriving again later is no change at all,
    human = snaps.observe("b24:deal:2", {"UF_COST": "1700", "TITLE": "A"})
    assert human.fields == {"UF_COST": ("1500.00", "1700")}
    # and an echo mixed with a human edit keeps the human part.
    snaps.record_writes("b24:deal:2", {"UF_COST": "1800"})
    mixed = snaps.observe("b24:deal:2", {"UF_COST": "1800", "TITLE": "B"})
    assert mixed.fields == {"TITLE": ("A", "B")} and mixed.echoes == ["UF_COST"]


def test_canonical_forms() -> None:
    assert canonical("1000.00") == canonical(1000) == canonical(" 1000 ")
    assert canonical(True) == canonical("Y") == canonical("1") and canonical("N") == canonical("0") == canonical(False)
    assert canonical(None) == canonical("") == ""
    assert canonical("2024-04-19T03:00:00+03:00") == canonical("2024-04-19") != canonical("2024-04-19T12:00:00+03:00")
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})
    assert canonical("C1:NEW") == "C1:NEW" and canonical("-5") == canonical(-5.0)


def test_retry_of_an_event_sees_the_change_its_failed_attempt_stored(db_url: str) -> None:
    snaps = snapshots(db_url)
    snaps.observe("b24:deal:3", {"STAGE_ID": "NEW"}, event_id=1)
    first_try = snaps.observe("b24:deal:3", {"STAGE_ID": "UC_EVALUATE"}, event_id=2)
    retry = snaps.observe("b24:deal:3", {"STAGE_ID": "UC_EVALUATE"}, event_id=2)
    assert first_try.fields == retry.fields == {"STAGE_ID": ("NEW", "UC_EVALUATE")}
    assert not snaps.observe("b24:deal:3", {"STAGE_ID": "UC_EVALUATE"}, event_id=3)

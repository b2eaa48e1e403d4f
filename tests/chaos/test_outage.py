"""Upstream outage: the Bitrix24 portal stops answering while events wait; they neither fail nor use
up their attempts, and once the portal is back the queue drains by itself (`bench/outage.py` holds
the portal down for two minutes)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select

from relay.store.schema import TraceStep
from tests.chaos.outage import outage
from tests.support.bitrix24 import LinkedDeals, start_linked_deals

PARENTS = 4
OUTAGE_SECONDS = 8.0


@pytest.fixture
def world(db_url: str, write_config: Callable[..., Path], tmp_path: Path) -> Iterator[LinkedDeals]:
    # max_attempts is 4 with backoff of at most 1 s: the old rule would have dead-lettered every
    # event within the first few seconds of the outage.
    w = start_linked_deals(db_url, write_config, tmp_path, start_worker=False, backoff_max_seconds=1.0)
    yield w
    w.stop()


def test_events_wait_out_a_portal_outage_and_drain_after_it(world: LinkedDeals) -> None:
    result = outage(world, PARENTS, OUTAGE_SECONDS)
    assert result.dead_during_outage == 0
    assert result.waited_during_outage >= PARENTS
    assert result.tries_during_outage >= PARENTS  # each event did try, found the portal down, and waited
    assert result.most_attempts_counted <= 1  # the tries were not counted against max_attempts
    for parent in result.parents:
        assert [c["CATEGORY_ID"] for c in world.children(parent)] == ["1", "2"]
        assert len(world.deal(parent)["UF_CRM_CHILD_DEALS"]) == 2
    depth = world.runtime.inbox.depth()
    assert set(depth) == {"done"}, depth
    with world.runtime.store.session() as s:
        note = s.scalar(select(TraceStep.message).where(TraceStep.step == "waiting").limit(1))
    assert note is not None and note.startswith("Bitrix24 is unavailable (Bitrix24 batch: ClientConnectorError: Cannot connect")
    assert "not counted as an attempt" in note
    assert "demo0webhook0key" not in note  # the webhook URL holds the secret
    # The first event through after the outage made the others due at once instead of at their next try.
    with world.runtime.store.session() as s:
        back = s.scalars(select(TraceStep.message).where(TraceStep.step == "upstream-back")).all()
    assert back and back[0].startswith("Bitrix24 answers again: ")

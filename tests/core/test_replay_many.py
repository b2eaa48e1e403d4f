"""`replay --dead` with more dead letters than one chunk: every one is queued again, none twice."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select, update

from relay.cli import REPLAY_CHUNK, main
from relay.intake.base import IncomingEvent
from relay.store.schema import InboxEvent
from tests.support.relay import base_config, make_runtime


def test_replay_dead_queues_every_dead_letter_across_chunks(tmp_path: Path, write_config: Callable[..., Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}"))
    runtime = make_runtime(config)
    total = REPLAY_CHUNK * 2 + 7
    runtime.inbox.add("shop", [IncomingEvent("order.paid", f"shop:{n}", {"n": n}, f"e{n}") for n in range(total)])
    with runtime.store.session() as s:
        s.execute(update(InboxEvent).where(InboxEvent.id % 3 != 0).values(status="dead", last_error="gave up"))
    with runtime.store.session() as s:
        dead = s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "dead"))
    runtime.close()
    assert dead > REPLAY_CHUNK

    assert main(["--config", str(config), "replay", "--dead"]) == 0
    assert f"queued {dead} event(s) again" in capsys.readouterr().out
    runtime = make_runtime(config)
    assert runtime.inbox.depth() == {"pending": total}
    runtime.close()

"""Scale-out on PostgreSQL: two web processes (gunicorn) and three workers run the reduced chaos
with the same results as one process each, the workers sharing one Bitrix24 request budget and
one scheduler leader among them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.processes import Topology
from tests.chaos.run import run_chaos
from tests.chaos.test_chaos_reduced import SIZE


def test_two_web_and_three_worker_processes_lose_and_double_nothing(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several hosts' processes share a PostgreSQL store; SQLite is the one-process default")
    report = run_chaos(db_url, tmp_path, size=SIZE, topology=Topology(web_processes=2, workers=3), say=print)
    print(report.summary())
    assert report.problems == [], report.summary()
    assert report.kills == 3 and report.dead == []
    assert report.parents > 0 and report.children == 2 * report.parents
    assert report.fintablo_transactions == report.payments > 0
    assert len(list((tmp_path / "logs").glob("worker-*.log"))) == 3

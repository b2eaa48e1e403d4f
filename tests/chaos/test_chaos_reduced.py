"""A reduced chaos run on every submission: ~220 mixed operations against faulty emulators, lossy
Bitrix24 delivery and a worker killed with SIGKILL three times; then nothing is lost or doubled.

The full run (2,000 operations) is `python bench/chaos.py`; its figures are in docs/BENCHMARKS.md.
"""
from __future__ import annotations

from pathlib import Path

from tests.chaos.run import run_chaos

SIZE = 220


def test_reduced_chaos_run_loses_nothing_and_doubles_nothing(db_url: str, tmp_path: Path) -> None:
    report = run_chaos(db_url, tmp_path, size=SIZE, say=print)
    print(report.summary())
    assert report.problems == [], report.summary()
    # Nothing here is permanently wrong, so a dead letter would mean a transient fault was taken for a permanent one.
    assert report.dead == []
    # The chaos really happened: faults were injected, deliveries lost and repeated, kills made.
    assert report.kills == 3
    assert sum(sum(kinds.values()) for kinds in report.injected.values()) > 0
    assert all(count > 0 for count in report.rate_limited.values()), report.rate_limited
    assert report.delivery.get("dropped", 0) > 0 and report.delivery.get("duplicate", 0) > 0
    assert sum(report.operations.values()) >= SIZE * 0.9
    assert report.parents > 0 and report.children == 2 * report.parents
    assert report.fintablo_transactions == report.payments > 0

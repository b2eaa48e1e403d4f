"""The review list: opened once per subject, resolved into a `<kind>.resolved` event the rules apply."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from relay.reviews import ReviewError
from relay.store.schema import InboxEvent
from relay.worker import Worker
from tests.support.relay import base_config, make_runtime

RULES = """
rules:
  - id: apply-resolution
    when: {source: review, kind: "payment.resolved"}
    do:
      - note: {text: "apply {{ review.subject }} to deal {{ review.resolution.deal }} ({{ review.item.amount }})"}
"""


def test_open_is_once_per_subject_and_resolution_becomes_one_event(db_url: str, write_config) -> None:
    runtime = make_runtime(write_config(base_config(db_url, "rules: [rules/*.yaml]\n"), **{"rules__review.yaml": RULES}))
    reviews = runtime.reviews
    first = reviews.open("payment", "bank:operation:7", "no deal with invoice 123", {"amount": "1500.00"},
                         [{"id": 41, "label": "Deal 41"}])
    again = reviews.open("payment", "bank:operation:7", "two deals match", {"amount": "1500.00"},
                         [{"id": 41}, {"id": 42}])
    assert again.id == first.id and again.reason == "two deals match" and len(again.candidates) == 2
    assert [i.subject for i in reviews.list("payment")] == ["bank:operation:7"]
    assert reviews.counts() == {"payment": 1}

    resolved = reviews.resolve(first.id, {"deal": 42}, by="admin")
    assert resolved.status == "resolved" and resolved.resolved_by == "admin"
    with pytest.raises(ReviewError, match="already resolved"):
        reviews.resolve(first.id, {"deal": 41}, by="other")
    # a decided item is not reopened by the same operation arriving again
    assert reviews.open("payment", "bank:operation:7", "again", {}).status == "resolved"
    assert reviews.list("payment") == []

    Worker(runtime).run_once()
    with runtime.store.session() as s:
        rows = s.scalars(select(InboxEvent).where(InboxEvent.source == "review")).all()
        assert [(r.kind, r.entity_key, r.status) for r in rows] == [("payment.resolved", "bank:operation:7", "done")]
        event_id = rows[0].id
    steps = runtime.tracer.steps(event_id)
    notes = [s.message for s in steps if s.step == "note"]
    assert notes == ["apply bank:operation:7 to deal 42 (1500.00)"]
    runtime.close()


def test_dismiss_and_settle_close_without_an_event(db_url: str, write_config) -> None:
    runtime = make_runtime(write_config(base_config(db_url)))
    a = runtime.reviews.open("form", "forms:brief:r1", "no task 99", {})
    runtime.reviews.open("form", "forms:brief:r2", "no task 98", {})
    assert runtime.reviews.dismiss(a.id, by="admin", note="test submission").status == "dismissed"
    assert runtime.reviews.settle("form", "forms:brief:r2", {"task": 98}) is True
    assert runtime.reviews.settle("form", "forms:brief:r2", {"task": 98}) is False
    assert runtime.reviews.list() == []
    assert runtime.inbox.depth().get("pending", 0) == 0
    with pytest.raises(ReviewError, match="does not exist"):
        runtime.reviews.dismiss(999, by="admin")
    runtime.close()


def test_review_command_lists_resolves_and_explains_mistakes(tmp_path: Path, write_config) -> None:
    config = write_config(base_config(f"sqlite:///{tmp_path / 'relay.db'}"))
    runtime = make_runtime(config)
    item = runtime.reviews.open("payment", "bank:operation:9", "ambiguous: 2 deals", {"amount": "10.00"},
                                [{"id": 5, "label": "Deal 5"}])
    runtime.close()

    def app(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "app.py", "--config", str(config), "review", *args],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])

    listed = app()
    assert "bank:operation:9" in listed.stdout and "Deal 5" in listed.stdout and listed.returncode == 0
    bad = app("resolve", str(item.id), "deal")
    assert bad.returncode == 1 and "'deal' is not key=value" in bad.stderr
    done = app("resolve", str(item.id), "deal=5", "--by", "anna")
    assert done.returncode == 0, done.stderr
    shown = app("show", str(item.id))
    assert json.loads(shown.stdout.split("\n", 1)[1])["resolution"] == {"deal": 5}
    assert "nothing waits for review" in app().stdout
    assert app("dismiss", str(item.id)).returncode == 1

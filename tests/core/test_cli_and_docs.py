"""The CLI against a real store, the generated docs, the schema, and secrets kept out of output."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from relay.config.reference import render_reference
from relay.intake.base import IncomingEvent
from relay.logs import JsonFormatter
from relay.redact import REDACTOR
from relay.store.schema import Base
from relay.worker import Worker
from tests.support.relay import SECRET, base_config, make_runtime

ROOT = Path(__file__).resolve().parents[2]
RULES = """\
rules:
  - id: refuse
    when: {source: shop, kind: bad}
    do:
      - record: {permanent: true}
  - id: ok
    when: {source: shop, kind: good}
    do:
      - note: {text: "good {{ payload.n }}"}
      - start_timer: {kind: later, after: 3d, cancel_key: "k-{{ payload.n }}"}
"""


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_events_show_replay_timers(db_url: str, write_config: Callable[..., Path]) -> None:
    config = write_config(base_config(db_url, "plugins: [tests.support.plugin]\n"), **{"rules__main.yaml": RULES})
    runtime = make_runtime(config)
    runtime.inbox.add("shop", [IncomingEvent("good", "shop:g1", {"n": 1}, "g1"), IncomingEvent("bad", "shop:b1", {"n": 2}, "b1")])
    Worker(runtime).run_once()
    runtime.close()

    listing = cli(config, "events")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert "dead" in lines[0] and "bad" in lines[0] and "always refuses" in lines[0]
    assert "done" in lines[1] and "good" in lines[1]
    assert cli(config, "events", "--status", "dead").stdout.count("\n") == 1

    shown = cli(config, "show", "1")
    assert shown.returncode == 0
    for expected in ("event 1: shop/good", "rule.matched", "rule ok matched", "good 1", "effect.written", "done"):
        assert expected in shown.stdout, shown.stdout
    assert cli(config, "show", "99").returncode == 1

    timers = cli(config, "timers")
    assert "later" in timers.stdout and "cancel_key=k-1" in timers.stdout
    timer_id = timers.stdout.split()[0]
    assert cli(config, "timers", "--cancel", timer_id).stdout.startswith(f"cancelled timer {timer_id}")
    assert "no timers" in cli(config, "timers").stdout

    replay = cli(config, "replay", "--dead")
    assert replay.returncode == 0 and "queued 1 event(s) again" in replay.stdout
    assert "pending" in cli(config, "events", "--source", "shop").stdout.splitlines()[0]


def test_generated_config_reference_is_current() -> None:
    assert (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8") == render_reference(), \
        "docs/config-reference.md is stale: run `python app.py docs > docs/config-reference.md`"


def test_migrations_create_exactly_the_models(db_url: str, write_config: Callable[..., Path]) -> None:
    runtime = make_runtime(write_config(base_config(db_url)))
    with runtime.store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    runtime.close()


def test_json_logs_redact_secrets(db_url: str, write_config: Callable[..., Path]) -> None:
    runtime = make_runtime(write_config(base_config(db_url)))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("relay.test-redaction")
    logger.addHandler(handler)
    try:
        logger.error("calling https://portal.example/rest/1/abcd1234efgh/crm.deal.get with %s", SECRET)
        try:
            raise ValueError(f"upstream said: bad token {SECRET}")
        except ValueError:
            logger.exception("failed")
        logger.warning("bot https://api.telegram.org/bot123456:AAH-secretpart/sendMessage")
    finally:
        logger.removeHandler(handler)
        runtime.close()
    out = stream.getvalue()
    assert SECRET not in out and "abcd1234efgh" not in out and "AAH-secretpart" not in out
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["msg"] == "calling https://portal.example/rest/1/***/crm.deal.get with ***"
    assert "***" in records[1]["exc"]
    assert REDACTOR.text(f"x {SECRET} y") == "x *** y"

"""Scenario requests at /hooks/planfix: the shared secret, forgiving parsing, one event per change."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from emulators.common.server import RunningServer, serve_in_thread
from relay.runtime import Runtime
from relay.web.app import create_app
from tests.support.planfix import PF_SECRET
from tests.support.relay import base_config, make_runtime

CONFIG = f"""\
connectors:
  planfix:
    account_url: http://127.0.0.1:9/rest
    token: "0123456789abcdef0123456789abcdef"
    scenario_secret: "{PF_SECRET}"
"""


@pytest.fixture
def relay(db_url: str, write_config: Callable[..., Path]) -> Iterator[tuple[Runtime, RunningServer]]:
    runtime = make_runtime(write_config(base_config(db_url, CONFIG)))
    server = serve_in_thread(create_app(runtime))
    yield runtime, server
    server.stop()
    runtime.close()


def _post(server: RunningServer, body: str | bytes, path: str = "/hooks/planfix/task", headers: dict[str, str] | None = None,
          **params: str) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    return requests.post(server.url + path, data=data, params=params or None, timeout=10,
                         headers={"Content-Type": "application/json", **(headers or {})})


def _events(runtime: Runtime) -> list[tuple[str, str, dict]]:
    from sqlalchemy import select

    from relay.store.schema import InboxEvent
    with runtime.store.session() as s:
        return [(e.kind, e.entity_key, e.payload) for e in s.scalars(select(InboxEvent).order_by(InboxEvent.id))]


def test_a_request_without_the_right_secret_is_refused_and_not_stored(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    body = '{"event": "task.status_changed", "task": 1003}'
    missing = _post(server, body)
    wrong = _post(server, body, headers={"X-Relay-Secret": "guess-guess-guess"})
    wrong_param = _post(server, body, key="guess-guess-guess")
    assert (missing.status_code, wrong.status_code, wrong_param.status_code) == (401, 403, 403)
    assert "X-Relay-Secret" in missing.json()["reason"]
    assert PF_SECRET not in wrong.text + missing.text
    assert _events(runtime) == [] and runtime.inbox.depth() == {}


def test_the_secret_in_a_header_or_the_query_and_bodies_as_planfix_writes_them(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    ok = {"X-Relay-Secret": PF_SECRET}
    assert _post(server, '{"event": "task.status_changed", "task": 1003}', headers=ok).json() == {"accepted": 1, "duplicates": 0}
    assert _post(server, '```json\n{"event": "Task.Created", "task": "1004"}\n```', key=PF_SECRET).status_code == 200
    form = _post(server, "event=task.changed&task=1005", headers={"Content-Type": "application/x-www-form-urlencoded", **ok})
    assert form.status_code == 200
    assert _post(server, "", path="/hooks/planfix/button", key=PF_SECRET, task="1006", event="brief.send").status_code == 200
    assert [(kind, key, payload["task"]) for kind, key, payload in _events(runtime)] == [
        ("task.status_changed", "planfix:task:1003", 1003), ("task.created", "planfix:task:1004", 1004),
        ("task.changed", "planfix:task:1005", 1005), ("brief.send", "planfix:task:1006", 1006)]
    assert all("key" not in payload for _, _, payload in _events(runtime))     # the secret is not stored


def test_bad_bodies_get_the_reason(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    ok = {"X-Relay-Secret": PF_SECRET}
    no_task = _post(server, '{"event": "task.status_changed", "task": ""}', headers=ok)
    broken = _post(server, '{"event": "task.status_changed", "task": 1003, "name": "Say "hi""}', headers=ok)
    listed = _post(server, "[1003]", headers=ok)
    assert (no_task.status_code, broken.status_code, listed.status_code) == (422, 400, 400)
    assert "task number" in no_task.json()["reason"] and "not JSON" in broken.json()["reason"]
    assert _events(runtime) == []


def test_repeats_a_comment_once_and_a_task_change_again_only_after_it_was_looked_at(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    ok = {"X-Relay-Secret": PF_SECRET}
    comment = json.dumps({"event": "task.comment_added", "task": 1003, "comment": 5010})
    assert _post(server, comment, headers=ok).json() == {"accepted": 1, "duplicates": 0}
    assert _post(server, comment, headers=ok).json() == {"accepted": 0, "duplicates": 1}
    status = '{"event": "task.status_changed", "task": 1004}'
    assert _post(server, status, headers=ok).json()["accepted"] == 1
    assert _post(server, status, headers=ok).json() == {"accepted": 0, "duplicates": 1}   # the first still waits
    claimed = runtime.inbox.claim("test", 10, 30)
    assert len(claimed) == 2
    assert _post(server, status, headers=ok).json() == {"accepted": 1, "duplicates": 0}   # taken: a new look

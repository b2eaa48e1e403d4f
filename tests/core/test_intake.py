"""POST /hooks/<source> over real HTTP: stored once before the 200, refused requests stored nowhere."""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from sqlalchemy import func, select

from emulators.common.server import RunningServer, serve_in_thread
from relay.runtime import Runtime
from relay.store.schema import InboxEvent
from relay.web import create_app
from tests.support.relay import SECRET, base_config, make_runtime, signed


@pytest.fixture
def relay(db_url: str, write_config: Callable[..., Path]) -> Iterator[tuple[Runtime, RunningServer]]:
    config = base_config(db_url).replace("web:\n  port: 0", "web:\n  port: 0\n  max_body_bytes: 2048")
    runtime = make_runtime(write_config(config))
    server = serve_in_thread(create_app(runtime))
    yield runtime, server
    server.stop()
    runtime.close()


def stored(runtime: Runtime) -> int:
    with runtime.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(InboxEvent)) or 0)


def test_event_stored_once_and_duplicate_acknowledged(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    body, headers = signed({"type": "order.created", "entity": "o-1", "id": "evt-1", "amount": 5})
    first = requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10)
    again = requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and first.json() == {"accepted": 1, "duplicates": 0}
    assert again.status_code == 200 and again.json() == {"accepted": 0, "duplicates": 1}
    with runtime.store.session() as s:
        events = s.scalars(select(InboxEvent)).all()
        assert [(e.source, e.kind, e.entity_key, e.idem_key, e.status, e.payload["amount"]) for e in events] == [
            ("shop", "order.created", "shop:o-1", "evt-1", "pending", 5)]


def test_event_without_id_is_keyed_by_body_hash(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    for payload in ({"type": "ping", "n": 1}, {"type": "ping", "n": 1}, {"type": "ping", "n": 2}):
        body, headers = signed(payload)
        assert requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10).status_code == 200
    assert stored(runtime) == 2


@pytest.mark.parametrize("headers,status,reason", [
    ({}, 401, "missing X-Relay-Signature"),
    ({"X-Relay-Signature": "00" * 32}, 403, "does not match"),
    ({"X-Relay-Signature": "not-hex"}, 403, "does not match"),
])
def test_unauthenticated_refused_and_not_stored(relay: tuple[Runtime, RunningServer], headers: dict[str, str], status: int, reason: str) -> None:
    runtime, server = relay
    response = requests.post(f"{server.url}/hooks/shop", data=b'{"type":"x"}', headers=headers, timeout=10)
    assert response.status_code == status
    assert reason in response.json()["reason"]
    assert SECRET not in response.text
    assert stored(runtime) == 0


@pytest.mark.parametrize("body,reason", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"no_type": 1}', "cannot read the event"),
])
def test_malformed_refused_with_reason(relay: tuple[Runtime, RunningServer], body: bytes, reason: str) -> None:
    runtime, server = relay
    headers = {"X-Relay-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    response = requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10)
    assert response.status_code in (400, 422)
    assert reason in response.json()["reason"]
    assert stored(runtime) == 0


def test_oversized_body_refused(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    body, headers = signed({"type": "big", "blob": "x" * 5000})
    response = requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10)
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.json()["reason"]
    assert stored(runtime) == 0


def test_unknown_source_is_404(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    response = requests.post(f"{server.url}/hooks/nope", data=b"{}", timeout=10)
    assert response.status_code == 404 and "no source named 'nope'" in response.json()["reason"]
    assert stored(runtime) == 0


def test_healthz_and_metrics(relay: tuple[Runtime, RunningServer]) -> None:
    runtime, server = relay
    body, headers = signed({"type": "order.created", "id": "m-1"})
    requests.post(f"{server.url}/hooks/shop", data=body, headers=headers, timeout=10)
    requests.post(f"{server.url}/hooks/shop", data=body, headers={"X-Relay-Signature": "bad"}, timeout=10)
    health = requests.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 503  # no worker is running in this test
    assert health.json()["store"] == "ok" and health.json()["workers_alive"] == 0 and health.json()["queue"] == {"pending": 1}
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    assert 'relay_events_received_total{source="shop"} 1.0' in text
    assert 'relay_requests_rejected_total{source="shop",status="403"} 1.0' in text
    assert 'relay_inbox_events{source="shop",status="pending"} 1.0' in text

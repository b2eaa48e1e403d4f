"""Fixtures and helpers the bank and Fintablo emulator tests share (the Fintablo connector tests too).

Every one of those emulators has the same `/_emulator/` control surface, so resetting one, turning a
knob or standing up a webhook receiver is written once here rather than in each test module.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from emulators.common.clock import ManualClock
from emulators.common.server import RunningServer, serve_in_thread
from emulators.common.webhook_sink import WebhookSink


def control(server: RunningServer, path: str, **body: Any) -> None:
    """POST `body` to `/_emulator/<path>` and fail the test unless it is accepted."""
    requests.post(f"{server.url}/_emulator/{path}", json=body, timeout=10).raise_for_status()


def reset(server: RunningServer) -> None:
    """Back to the seed: state, knobs and request counts (the clock is left where it is)."""
    requests.post(server.url + "/_emulator/reset", timeout=10).raise_for_status()


def fresh_fintablo(server: RunningServer) -> RunningServer:
    """The Fintablo emulator back at its seed with no faults: where every Fintablo test starts."""
    reset(server)
    control(server, "faults")
    return server


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    """The bank tests' clock: 2025-03-03 14:06:40 MSK, after every payment in the bank demo seeds."""
    return ManualClock(start=1_741_000_000.0)


@pytest.fixture(scope="module")
def sink() -> WebhookSink:
    return WebhookSink()


@pytest.fixture(scope="module")
def sink_server(sink: WebhookSink) -> Iterator[RunningServer]:
    with serve_in_thread(sink.app) as server:
        yield server

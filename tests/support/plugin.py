"""Test-only actions, loaded through `plugins:` like an admin's own module would be."""
from __future__ import annotations

import threading
import time
from typing import Any

from pydantic import Field

from relay.actions.context import ActionContext
from relay.actions.params import Params
from relay.errors import PermanentError, TransientError
from relay.registry import action

CALLS: list[dict[str, Any]] = []
FAILURES: dict[str, int] = {}
_lock = threading.Lock()


class RecordParams(Params):
    sleep: float = Field(0.0, ge=0)
    fail_times: int = Field(0, ge=0, description="raise TransientError this many times per event first")
    permanent: bool = False


@action("record", RecordParams)
def record(ctx: ActionContext, p: RecordParams) -> None:
    """Append what ran, when, to CALLS; optionally fail first."""
    key = ctx.key()
    with _lock:
        seen = FAILURES.get(key, 0)
        FAILURES[key] = seen + 1
    if p.permanent:
        raise PermanentError("this action always refuses")
    if seen < p.fail_times:
        raise TransientError(f"planned failure {seen + 1} of {p.fail_times}")
    start = time.monotonic()
    time.sleep(p.sleep)
    with _lock:
        CALLS.append({"event": ctx.event.id, "entity": ctx.event.entity_key, "seq": ctx.event.payload.get("seq"),
                      "start": start, "end": time.monotonic(), "kind": ctx.event.kind})


def reset() -> None:
    with _lock:
        CALLS.clear()
        FAILURES.clear()

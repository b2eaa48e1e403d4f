"""Run one REST method the way CRestServer does: find it, check scope and operating time, time it.

Used for direct HTTP calls and for every command inside `batch`, so both paths share the same
errors, the same `time` block and the same per-method operating-time accounting.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from . import errors
from .methods import METHODS, Call, Reply
from .timeutil import from_unix, iso

if TYPE_CHECKING:
    from .portal import Portal

log = logging.getLogger(__name__)


def normalize_method(name: str) -> str:
    """Method names are case-insensitive; a `.json` suffix only picks the (default) format."""
    name = name.strip().strip("/").lower()
    return name[:-5] if name.endswith(".json") else name


def time_block(portal: "Portal", started: float, elapsed: float, extra: dict[str, Any]) -> dict[str, Any]:
    """The `time` object every success carries; `operating` (and its reset time) come from limits."""
    tz = portal.tz
    finish = started + elapsed
    return {"start": round(started, 6), "finish": round(finish, 6), "duration": elapsed,
            "processing": elapsed, "date_start": iso(from_unix(started, tz), tz),
            "date_finish": iso(from_unix(finish, tz), tz), **extra}


def invoke(portal: "Portal", method: str, params: dict[str, Any], start: Any = None,
           in_batch: bool = False) -> tuple[Reply, dict[str, Any]]:
    """Call `method`; returns (reply, time block) or raises RestError."""
    spec = METHODS.get(method)
    if spec is None:
        raise errors.method_not_found()
    if in_batch and not spec.batch_allowed:
        raise errors.batch_method_not_allowed()
    if spec.scope is not None and spec.scope not in portal.config.scopes:
        raise errors.insufficient_scope()
    if portal.limits.blocked(method):
        raise errors.operation_time_limit()
    started, t0 = portal.clock(), time.perf_counter()
    try:
        result = spec.func(Call(portal, method, params, start, in_batch))
    except errors.RestError:
        raise
    except Exception:  # noqa: BLE001 - a bug in the emulator answers like a PHP fatal error would
        log.exception("method %s failed", method)
        raise errors.internal_error() from None
    elapsed = time.perf_counter() - t0
    reply = result if isinstance(result, Reply) else Reply(result)
    # The outer batch is not charged; each of its commands is, against its own method.
    operating = {"operating": 0} if method == "batch" else portal.limits.charge(method, elapsed)
    return reply, time_block(portal, started, elapsed, operating)

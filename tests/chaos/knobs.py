"""The chaos itself: faults on every emulator, lossy Bitrix24 delivery, 429s, a squeezed bucket."""
from __future__ import annotations

from typing import Any

from tests.chaos.world import BUCKET, FORCED_429, Emulators

EMULATORS = ("portal", "telegram", "tochka", "tbank", "fintablo")


def faults(seed: int, rate: float) -> dict[str, Any]:
    """`rate` of requests broken: 40% HTML 5xx pages, 20% held past the client's timeout, 40% resets."""
    return {"error_rate": rate * 0.4, "timeout_rate": rate * 0.2, "reset_rate": rate * 0.4, "timeout_seconds": 4.0, "seed": seed}


def chaos_on(emu: Emulators, rate: float) -> None:
    for n, name in enumerate(EMULATORS):
        emu.control(name, "faults", faults(seed=100 + n, rate=rate))
    emu.control("portal", "events/settings", {"drop_rate": 0.1, "duplicate_rate": 0.1, "reorder_window": 4,
                                              "reorder_mode": "shuffle", "reorder_max_wait_seconds": 0.3, "seed": 7})
    # 429s besides the portal's own QUERY_LIMIT_EXCEEDED (its bucket is smaller than the relay believes).
    emu.control("telegram", "scenarios", {"method": "sendMessage", "retry_after": 1, "times": FORCED_429})
    emu.control("fintablo", "knobs", {"force_429": FORCED_429})


def squeeze(emu: Emulators, on: bool) -> None:
    """Shrink the portal's bucket for a moment (or restore it): the relay's calls meet QUERY_LIMIT_EXCEEDED."""
    burst, rate = (1, 0.5) if on else BUCKET
    emu.control("portal", "limits", {"burst": burst, "rate": rate})


def chaos_off(emu: Emulators) -> None:
    """For the drain: the faults stop, so the end state can be read without fighting them."""
    for name in EMULATORS:
        emu.control(name, "faults", {})
    emu.control("telegram", "scenarios", method="DELETE")
    emu.control("fintablo", "knobs", {"force_429": 0})
    emu.control("portal", "events/settings", {"drop_rate": 0.0, "duplicate_rate": 0.0, "reorder_window": 0})


def injected(emu: Emulators) -> dict[str, dict[str, int]]:
    return {name: emu.control(name, "faults", method="GET")["injected"] for name in EMULATORS}

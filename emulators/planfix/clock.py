"""Injectable time for the Planfix emulator: the common clocks, with a Planfix-specific start date.

The 1 request/second limit, the daily budget, deferred (202) task updates and the scenario
retry schedule (15 min / 30 min / 1 h / 1 h, 3-minute pause after a failure) all read this
clock, so a test can step over hours instantly with a `ManualClock` instead of sleeping.
"""
from __future__ import annotations

from emulators.common import clock as common
from emulators.common.clock import Clock, SystemClock

__all__ = ["Clock", "ManualClock", "SystemClock", "START"]

START = 1_714_557_600.0
"""2024-05-01 10:00 UTC: the day the demo seed's tasks and deadlines are written around."""


class ManualClock(common.ManualClock):
    """The common hand-moved clock; only the default start differs (the seed's day, not "now")."""

    def __init__(self, start: float = START) -> None:
        super().__init__(start)

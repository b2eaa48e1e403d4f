"""Timers and periodic jobs (sweeps, polling), run by one leader among all processes."""
from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Callable

from apscheduler.schedulers.background import BackgroundScheduler

from relay import leases

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.scheduler")
LEADER = "scheduler-leader"


class Scheduler:
    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.holder = f"scheduler:{uuid.uuid4().hex[:8]}"
        self.tick_seconds = runtime.config.settings.scheduler.tick_seconds
        self._aps = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})

    def is_leader(self) -> bool:
        return leases.acquire(self.runtime.store, LEADER, self.holder, max(10.0, self.tick_seconds * 5))

    def tick(self) -> int:
        """Fire due timers if this process leads; returns how many fired."""
        if not self.is_leader():
            return 0
        fired = self.runtime.timers.fire_due()
        if fired:
            log.info("fired %d timer(s)", fired)
        return fired

    def every(self, seconds: float, job: Callable[[], object], name: str) -> None:
        """A periodic job (e.g. a reconciliation sweep) that only the leader runs."""

        def run() -> None:
            if self.is_leader():
                try:
                    job()
                except Exception:
                    log.exception("periodic job %s failed; it runs again next time", name)

        self._aps.add_job(run, "interval", seconds=seconds, id=name, name=name)

    def start(self) -> None:
        self._aps.add_job(self._safe_tick, "interval", seconds=self.tick_seconds, id="timers", name="timers")
        for seconds, job, name in self.runtime.periodic_jobs():
            self.every(seconds, job, name)
        self._aps.start()

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:
            log.exception("timer tick failed; it runs again next time")

    def stop(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
        leases.release(self.runtime.store, LEADER, self.holder)

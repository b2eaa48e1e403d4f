"""Group commit for the worker's outcomes: events processed by several threads are marked done in
one transaction.

Marking an event done is its own commit otherwise, and on SQLite a commit costs about as much as
processing an event with simple rules. Handing the outcome over and committing a group later is safe:
until the commit the event stays `processing` under its lease, so the next event of the same entity
is not claimed yet, and after a crash in between the event runs again with its effects already
keyed — nothing is written twice.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from relay.trace import Step, write_steps

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.worker")
MAX_GROUP = 200
LOST = "finished after the lease passed to another worker; its effects are keyed, so nothing repeats"


@dataclass
class Outcome:
    event_id: int
    source: str
    steps: Sequence[Step]


class Finisher:
    def __init__(self, runtime: "Runtime", worker_id: str) -> None:
        self.runtime = runtime
        self.worker_id = worker_id
        self._queue: "queue.Queue[Outcome | None]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="relay-finisher", daemon=True)
        self._thread.start()

    def submit(self, event_id: int, source: str, steps: Sequence[Step]) -> None:
        self._queue.put(Outcome(event_id, source, steps))

    def close(self) -> None:
        """Write everything submitted so far, then stop."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            stop = first is None
            group = [] if first is None else [first]
            while not stop and len(group) < MAX_GROUP:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                stop = item is None
                if item is not None:
                    group.append(item)
            try:
                self._write(group)
            except Exception:  # the store failed: the leases run out and the events run again, effects keyed
                log.exception("marking %d events done failed; they will be taken up again", len(group))
            if stop:
                return

    def _write(self, group: list[Outcome]) -> None:
        if not group:
            return
        inbox, metrics = self.runtime.inbox, self.runtime.metrics
        done = inbox.finish_many([(o.event_id, o.steps) for o in group], self.worker_id)
        lost = [o for o, ok in zip(group, done) if not ok]
        for o, ok in zip(group, done):
            if ok:
                metrics.processed(o.source, "done")
        if lost:
            with self.runtime.store.session() as s:
                for o in lost:
                    steps = list(o.steps)
                    steps[-1].step, steps[-1].message = "lease-lost", LOST
                    write_steps(s, steps)

"""The worker: claims ready events, runs them through the engine, retries or dead-letters failures."""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy import select
from tenacity import RetryCallState, wait_random_exponential

from relay.errors import PermanentError, TransientError, UpstreamUnavailable
from relay.finisher import LOST, Finisher
from relay.inbox import Claimed
from relay.redact import REDACTOR
from relay.store import utcnow
from relay.store.schema import WorkerBeat
from relay.trace import write_steps

if TYPE_CHECKING:
    from relay.runtime import Runtime

log = logging.getLogger("relay.worker")


def backoff_seconds(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter, computed by tenacity's own strategy."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return float(wait_random_exponential(multiplier=initial, max=maximum)(state))


def outage_note(upstream: str) -> str:
    """How a waiting event's last error begins, so the first event through after an outage can wake
    the others that wait for the same system."""
    return f"[{upstream} unavailable] "


def waited_for(last_error: str) -> str | None:
    """The upstream an event last waited for, if its last try found one down."""
    if last_error.startswith("[") and " unavailable] " in last_error:
        return last_error[1:last_error.index(" unavailable] ")]
    return None


def outage_wait_seconds(waited: float, initial: float, maximum: float) -> float:
    """While an upstream is down, an event tries again after a fifth of the time it has waited so far
    (jittered, within the backoff bounds): a long outage costs a few tries an hour per event, and the
    first of the waiting events to try after the upstream is back — within about a fifth of the
    outage's length, usually much sooner, as their tries are spread out — wakes all the others."""
    return min(maximum, max(initial, waited / 5)) * random.uniform(0.5, 1.0)


class Worker:
    def __init__(self, runtime: "Runtime", worker_id: str | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.config.settings.worker
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._in_flight: dict[int, Future[None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._freed = threading.Event()  # a thread of the pool has finished its event
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._finisher: Finisher | None = None  # the background loop's group commit of outcomes

    # --- one event -------------------------------------------------------------------------
    def process(self, event: Claimed, finisher: Finisher | None = None) -> None:
        """Run one event; its outcome is written before this returns, or handed to `finisher`."""
        with self.runtime.tracer.collecting(event.id):
            self._process(event, finisher)

    def _process(self, event: Claimed, finisher: Finisher | None) -> None:
        inbox, tracer, metrics = self.runtime.inbox, self.runtime.tracer, self.runtime.metrics
        tracer.add(event.id, "claimed", f"attempt {event.attempts} by worker {self.id}", worker=self.id)
        try:
            self.runtime.engine.handle(event)
        except PermanentError as exc:
            reason = REDACTOR.text(str(exc))
            tracer.add(event.id, "dead", f"permanent failure: {reason}")
            inbox.dead(event.id, reason, tracer.take())
            metrics.processed(event.source, "dead")
            return
        except UpstreamUnavailable as exc:
            waited = (utcnow() - event.received_at).total_seconds()
            if waited >= self.settings.outage_patience_hours * 3600:
                self._failed(event, exc)
                return
            delay = outage_wait_seconds(waited, self.settings.backoff_initial_seconds, self.settings.backoff_max_seconds)
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            reason = REDACTOR.text(str(exc))
            tracer.add(event.id, "waiting", f"{exc.upstream} is unavailable ({reason}); not counted as an attempt, "
                       f"next try in {delay:.1f}s", delay=delay, upstream=exc.upstream)
            inbox.retry_later(event.id, self.id, delay, outage_note(exc.upstream) + reason, tracer.take(), count_attempt=False)
            metrics.retried(event.source)
            return
        except Exception as exc:  # anything else may pass: retry with backoff, up to max_attempts
            self._failed(event, exc)
            return
        upstream = waited_for(event.last_error)
        if upstream is not None:
            woken = inbox.wake(outage_note(upstream))
            tracer.add(event.id, "upstream-back", f"{upstream} answers again: {woken} waiting events are due now")
        tracer.add(event.id, "done", "processed")
        steps = tracer.take()
        if finisher is not None:
            finisher.submit(event.id, event.source, steps)
        elif inbox.finish(event.id, self.id, steps):
            metrics.processed(event.source, "done")
        else:
            steps[-1].step, steps[-1].message = "lease-lost", LOST
            with self.runtime.store.session() as s:
                write_steps(s, steps)

    def _failed(self, event: Claimed, exc: Exception) -> None:
        """A failure that may pass: retry with backoff, up to max_attempts, then dead letters."""
        inbox, tracer, metrics = self.runtime.inbox, self.runtime.tracer, self.runtime.metrics
        reason = REDACTOR.text(f"{type(exc).__name__}: {exc}")
        if event.attempts >= self.settings.max_attempts:
            tracer.add(event.id, "dead", f"gave up after {event.attempts} attempts: {reason}")
            inbox.dead(event.id, f"gave up after {event.attempts} attempts: {reason}", tracer.take())
            metrics.processed(event.source, "dead")
            return
        delay = backoff_seconds(event.attempts, self.settings.backoff_initial_seconds, self.settings.backoff_max_seconds)
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        tracer.add(event.id, "retry", f"attempt {event.attempts} failed ({reason}); next try in {delay:.1f}s", delay=delay)
        inbox.retry_later(event.id, self.id, delay, reason, tracer.take())
        metrics.retried(event.source)

    def run_once(self, limit: int = 100) -> int:
        """Process what is ready now, in this thread (CLI and tests). Returns how many were handled."""
        self.runtime.inbox.recover_expired(self.settings.max_attempts)
        total = 0
        while True:
            batch = self.runtime.inbox.claim(self.id, limit, self.settings.lease_seconds)
            if not batch:
                return total
            for event in batch:
                self.process(event)
            total += len(batch)

    # --- background loop -------------------------------------------------------------------
    def start(self) -> None:
        self._register()
        self.runtime.inbox.recover_expired(self.settings.max_attempts)
        self._pool = ThreadPoolExecutor(self.settings.threads, thread_name_prefix="relay-event")
        self._finisher = Finisher(self.runtime, self.id)
        for target, name in ((self._claim_loop, "relay-claim"), (self._heartbeat_loop, "relay-heartbeat")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker started", extra={"worker": self.id, "threads": self.settings.threads})

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._pool:
            self._pool.shutdown(wait=wait)
        if self._finisher is not None:
            self._finisher.close()
            self._finisher = None

    def _claim_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._freed.clear()
                free = self.settings.threads - self._busy()
                if free <= 0:  # every thread is busy: claim again as soon as one is done
                    self._freed.wait(self.settings.poll_seconds)
                    continue
                batch = self.runtime.inbox.claim(self.id, free, self.settings.lease_seconds)
                for event in batch:
                    self._submit(event)
            except Exception:
                log.exception("claiming events failed; will try again")
                batch = []
            if not batch:
                self._stop.wait(self.settings.poll_seconds)

    def _submit(self, event: Claimed) -> None:
        assert self._pool is not None
        future = self._pool.submit(self._guarded, event)
        with self._lock:
            self._in_flight[event.id] = future
        future.add_done_callback(lambda _f, eid=event.id: self._done(eid))

    def _guarded(self, event: Claimed) -> None:
        try:
            self.process(event, self._finisher)
        except Exception:
            # The store itself failed; the lease runs out and the event is taken over later.
            log.exception("processing event %s failed outside the handler", event.id)

    def _done(self, event_id: int) -> None:
        with self._lock:
            self._in_flight.pop(event_id, None)
        self._freed.set()

    def _busy(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def _heartbeat_loop(self) -> None:
        interval = max(0.2, self.settings.lease_seconds / 3)
        while not self._stop.wait(interval):
            try:
                with self._lock:
                    ids = list(self._in_flight)
                self.runtime.inbox.renew(self.id, ids, self.settings.lease_seconds)
                self._beat()
                self.runtime.inbox.recover_expired(self.settings.max_attempts)
            except Exception:
                log.exception("heartbeat failed; will try again")

    def _register(self) -> None:
        now = utcnow()
        with self.runtime.store.session() as s:
            s.merge(WorkerBeat(id=self.id, host=socket.gethostname(), pid=os.getpid(), started_at=now, heartbeat_at=now))

    def _beat(self) -> None:
        with self.runtime.store.session() as s:
            beat = s.get(WorkerBeat, self.id)
            if beat is None:
                s.add(WorkerBeat(id=self.id, host=socket.gethostname(), pid=os.getpid(), started_at=utcnow(), heartbeat_at=utcnow()))
            else:
                beat.heartbeat_at = utcnow()


def live_workers(runtime: "Runtime", within_seconds: float) -> int:
    """Workers that sent a heartbeat recently (for /healthz)."""
    cutoff = utcnow().timestamp() - within_seconds
    with runtime.store.session() as s:
        beats = s.scalars(select(WorkerBeat.heartbeat_at)).all()
    return sum(1 for b in beats if b.timestamp() >= cutoff)

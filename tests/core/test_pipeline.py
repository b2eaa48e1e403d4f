"""The worker, effects and timers against a real store: ordering, retries, dead letters, replay."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select, update

from emulators.common.server import RunningServer, serve_in_thread
from relay.intake.base import IncomingEvent
from relay.runtime import Runtime
from relay.store.schema import DeadLetter, Effect, InboxEvent, Timer
from relay.worker import Worker, backoff_seconds
from tests.support import plugin
from tests.support.relay import base_config, make_runtime
from tests.support.target import create_target

RULES = """\
rules:
  - id: record-all
    when: {source: shop, kind: "order.*"}
    do:
      - record: {sleep: 0.02}
  - id: flaky
    when: {source: shop, kind: flaky}
    do:
      - record: {fail_times: 2}
  - id: refuses
    when: {source: shop, kind: refuse}
    do:
      - record: {permanent: true}
  - id: forward
    when: {source: shop, kind: forward}
    do:
      - http_post:
          url: "{{ payload.target }}/records"
          json: {order: "{{ payload.order }}"}
          lookup_url: "{{ payload.target }}/records/{{ effect_key }}"
  - id: remind
    when: {source: shop, kind: brief.sent}
    do:
      - start_timer: {kind: brief.reminder, after: 1s, cancel_key: "brief-{{ payload.task }}", payload: {task: "{{ payload.task }}"}}
  - id: brief-arrived
    when: {source: shop, kind: brief.filled}
    do:
      - cancel_timer: {cancel_key: "brief-{{ payload.task }}"}
  - id: reminder-fired
    when: {source: timer, kind: brief.reminder}
    do:
      - record: {}
"""


@pytest.fixture
def runtime(db_url: str, write_config: Callable[..., Path]) -> Iterator[Runtime]:
    plugin.reset()
    path = write_config(base_config(db_url, "plugins: [tests.support.plugin]\n"), **{"rules__main.yaml": RULES})
    rt = make_runtime(path)
    yield rt
    rt.close()


@pytest.fixture
def target() -> Iterator[RunningServer]:
    server = serve_in_thread(create_target())
    yield server
    server.stop()


def put(rt: Runtime, kind: str, entity: str = "", idem: str = "", **payload: object) -> None:
    rt.inbox.add("shop", [IncomingEvent(kind, f"shop:{entity or idem or kind}", dict(payload), idem or f"{kind}-{entity}-{payload}")])


def drain(worker: Worker, until: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.05)


def statuses(rt: Runtime) -> dict[str, int]:
    return rt.inbox.depth()


def test_per_entity_order_and_no_overlap(runtime: Runtime) -> None:
    for seq in range(6):
        for entity in ("a", "b", "c"):
            put(runtime, "order.updated", entity, f"{entity}-{seq}", seq=seq)
    worker = Worker(runtime)
    worker.start()
    try:
        drain(worker, lambda: statuses(runtime) == {"done": 18})
    finally:
        worker.stop()
    by_entity: dict[str, list[dict]] = {}
    for call in plugin.CALLS:
        by_entity.setdefault(call["entity"], []).append(call)
    for entity, calls in by_entity.items():
        calls.sort(key=lambda c: c["start"])
        assert [c["seq"] for c in calls] == list(range(6)), entity
        assert all(a["end"] <= b["start"] for a, b in zip(calls, calls[1:])), f"two events of {entity} overlapped"
    starts = sorted(plugin.CALLS, key=lambda c: c["start"])
    overlapping = any(a["end"] > b["start"] for a, b in zip(starts, starts[1:]))
    assert overlapping, "different entities should run in parallel on 4 threads"


def test_transient_failures_retry_then_succeed(runtime: Runtime) -> None:
    put(runtime, "flaky", "f1")
    worker = Worker(runtime)
    drain(worker, lambda: worker.run_once() >= 0 and statuses(runtime) == {"done": 1})
    with runtime.store.session() as s:
        event = s.scalars(select(InboxEvent)).one()
        assert event.attempts == 3 and event.last_error is None
    steps = [t.step for t in runtime.tracer.steps(event.id)]
    assert steps.count("retry") == 2 and steps[-1] == "done"
    assert len(plugin.CALLS) == 1


def test_permanent_failure_goes_to_dead_letters_and_replay_requeues(runtime: Runtime) -> None:
    put(runtime, "refuse", "r1")
    worker = Worker(runtime)
    worker.run_once()
    assert statuses(runtime) == {"dead": 1}
    with runtime.store.session() as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert "always refuses" in letter.reason and letter.attempts == 1
    assert runtime.inbox.replay(runtime.inbox.dead_ids()) == 1
    with runtime.store.session() as s:
        assert s.scalars(select(DeadLetter)).one().resolved_at is not None
    worker.run_once()
    assert statuses(runtime) == {"dead": 1}


def test_gives_up_after_max_attempts(runtime: Runtime) -> None:
    rules = runtime.engine.rules
    flaky = next(r for r in rules if r.id == "flaky")
    flaky.actions[0].params.fail_times = 99
    put(runtime, "flaky", "f2")
    worker = Worker(runtime)
    drain(worker, lambda: worker.run_once() >= 0 and statuses(runtime) == {"dead": 1})
    with runtime.store.session() as s:
        letter = s.scalars(select(DeadLetter)).one()
    assert letter.attempts == 4 and "gave up after 4 attempts" in letter.reason


def test_http_post_once_even_when_replayed(runtime: Runtime, target: RunningServer) -> None:
    put(runtime, "forward", "o9", target=target.url, order="o9")
    worker = Worker(runtime)
    worker.run_once()
    runtime.inbox.replay([1])
    worker.run_once()
    posts = target.server.app.extensions["target"]["posts"]  # type: ignore[attr-defined]
    assert [p["json"] for p in posts] == [{"order": "o9"}]
    assert posts[0]["key"].startswith("forward|shop|")
    with runtime.store.session() as s:
        effect = s.scalars(select(Effect)).one()
        assert (effect.status, effect.external_id) == ("done", "1")


def test_crash_between_write_and_record_is_found_not_repeated(runtime: Runtime, target: RunningServer) -> None:
    """A `started` effect whose write did land: find_existing sees it, nothing is posted twice."""
    put(runtime, "forward", "o10", target=target.url, order="o10")
    from relay.effects import Effects
    real_finish = Effects._finish
    Effects._finish = lambda self, key, written: (_ for _ in ()).throw(SystemExit("killed"))  # type: ignore[method-assign]
    worker = Worker(runtime)
    try:
        with pytest.raises(SystemExit):
            worker.run_once()
    finally:
        Effects._finish = real_finish  # type: ignore[method-assign]
    with runtime.store.session() as s:
        assert s.scalars(select(Effect)).one().status == "started"
        event = s.scalars(select(InboxEvent)).one()
        event.lease_until = event.received_at  # the dead worker's lease has run out
    worker.run_once()
    posts = target.server.app.extensions["target"]["posts"]  # type: ignore[attr-defined]
    assert len(posts) == 1
    with runtime.store.session() as s:
        effect = s.scalars(select(Effect)).one()
        assert (effect.status, effect.external_id, effect.tries) == ("done", "1", 2)
    assert "effect.found" in [t.step for t in runtime.tracer.steps(1)]


def test_upstream_5xx_is_retried(runtime: Runtime, target: RunningServer) -> None:
    target.server.app.extensions["target"]["fail_next"] = 2  # type: ignore[attr-defined]
    put(runtime, "forward", "o11", target=target.url, order="o11")
    worker = Worker(runtime)
    drain(worker, lambda: worker.run_once() >= 0 and statuses(runtime) == {"done": 1})
    assert len(target.server.app.extensions["target"]["posts"]) == 1  # type: ignore[attr-defined]


def test_an_unreachable_target_is_waited_out_without_using_attempts(runtime: Runtime, target: RunningServer) -> None:
    """Ten 503s in a row, where max_attempts is 4: each is an outage of the target, not a failure of
    the event; the first success wakes a second event that waits for the same host."""
    target.server.app.extensions["target"]["fail_next"] = 10  # type: ignore[attr-defined]
    put(runtime, "forward", "o12", target=target.url, order="o12")
    worker = Worker(runtime)
    drain(worker, lambda: worker.run_once() >= 0 and statuses(runtime) == {"done": 1})
    with runtime.store.session() as s:
        event = s.scalars(select(InboxEvent)).one()
    assert event.attempts == 1  # the ten waits gave their attempts back; only the successful one counts
    steps = [t.step for t in runtime.tracer.steps(event.id)]
    assert steps.count("waiting") == 10 and "retry" not in steps and steps[-1] == "done"
    note = next(t.message for t in runtime.tracer.steps(event.id) if t.step == "waiting")
    assert note.startswith("127.0.0.1 is unavailable (POST http://127.0.0.1:") and "HTTP 503" in note

    # A second event found the host down and waits far ahead; the first event to get through wakes it.
    target.server.app.extensions["target"]["fail_next"] = 1  # type: ignore[attr-defined]
    put(runtime, "forward", "o13", target=target.url, order="o13")
    worker.run_once()
    with runtime.store.session() as s:
        waiting = s.scalars(select(InboxEvent).where(InboxEvent.status == "pending")).one()
        waiting.next_attempt_at = waiting.received_at.replace(year=waiting.received_at.year + 1)
    put(runtime, "forward", "o14", target=target.url, order="o14")
    with runtime.store.session() as s:
        s.get(InboxEvent, 3).last_error = waiting.last_error  # waited for the same host, now due
    worker.run_once()
    worker.run_once()
    assert statuses(runtime) == {"done": 3}
    woke = [t.message for t in runtime.tracer.steps(3) if t.step == "upstream-back"]
    assert woke == ["127.0.0.1 answers again: 1 waiting events are due now"]


def test_an_outage_longer_than_the_patience_uses_attempts_again(runtime: Runtime) -> None:
    runtime.config.settings.worker.outage_patience_hours = 1e-9
    put(runtime, "forward", "o15", target="http://127.0.0.1:9", order="o15")  # nothing listens on port 9
    worker = Worker(runtime)
    drain(worker, lambda: worker.run_once() >= 0 and statuses(runtime) == {"dead": 1})
    with runtime.store.session() as s:
        letter = s.scalars(select(DeadLetter)).one()
    assert letter.attempts == 4 and letter.reason.startswith("gave up after 4 attempts: UpstreamUnavailable: ")
    assert "http://127.0.0.1:9/records" in letter.reason and letter.reason.endswith(": ConnectionError")


def test_timer_fires_once_and_repeats_do_not_stack(runtime: Runtime) -> None:
    from relay.scheduler import Scheduler
    for _ in range(2):
        put(runtime, "brief.sent", "t1", idem="sent-1", task="t1")
    put(runtime, "brief.sent", "t1", idem="sent-1-again", task="t1")  # a second send: its own timer
    worker = Worker(runtime)
    worker.run_once()
    timers = runtime.timers.list("pending")
    assert len(timers) == 2 and {t.cancel_key for t in timers} == {"brief-t1"}
    scheduler = Scheduler(runtime)
    assert scheduler.tick() == 0
    time.sleep(1.1)
    assert scheduler.tick() == 2 and scheduler.tick() == 0
    worker.run_once()
    assert [c["kind"] for c in plugin.CALLS] == ["brief.reminder", "brief.reminder"]


def test_cancelled_timer_never_fires(runtime: Runtime) -> None:
    from relay.scheduler import Scheduler
    put(runtime, "brief.sent", "t2", task="t2")
    put(runtime, "brief.filled", "t2", task="t2")
    Worker(runtime).run_once()
    with runtime.store.session() as s:
        assert [t.status for t in s.scalars(select(Timer))] == ["cancelled"]
    time.sleep(1.1)
    assert Scheduler(runtime).tick() == 0
    assert plugin.CALLS == []


def test_one_scheduler_leads(runtime: Runtime) -> None:
    from relay.scheduler import Scheduler
    first, second = Scheduler(runtime), Scheduler(runtime)
    assert first.is_leader() and not second.is_leader()
    first.stop()
    assert second.is_leader()


def test_backoff_grows_with_jitter_and_cap() -> None:
    samples = [backoff_seconds(n, 1.0, 60.0) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) for _ in range(20)]
    assert all(0 <= s <= 60 for s in samples)
    late = [backoff_seconds(10, 1.0, 60.0) for _ in range(50)]
    assert len(set(late)) > 1, "jitter"


def test_repeatable_event_is_one_while_waiting_and_new_once_processed(runtime: Runtime) -> None:
    look = IncomingEvent("order.updated", "shop:r1", {"seq": 1}, "same-body", repeatable=True)
    assert runtime.inbox.add("shop", [look, look]) == (1, 1)
    Worker(runtime).run_once()
    assert runtime.inbox.add("shop", [look]) == (1, 0), "after processing, the same delivery is a new look"
    assert runtime.inbox.add("shop", [look]) == (0, 1)
    with runtime.store.session() as s:
        assert sorted(s.scalars(select(InboxEvent.idem_key))) == ["same-body", "same-body#2"]


def insert_paths(runtime: Runtime) -> dict[str, Callable[[list[tuple[str, list[IncomingEvent]]]], list[int]]]:
    """The intake's ways of storing a group of requests: SQLAlchemy Core everywhere, and the raw
    sqlite3 path the group writer takes on SQLite."""
    from relay.inbox import insert_batches
    from relay.intake.sqlite_insert import SqliteInserter

    def core(batches: list[tuple[str, list[IncomingEvent]]]) -> list[int]:
        with runtime.store.transaction() as conn:
            return insert_batches(conn, runtime.store, batches)
    paths = {"core": core}
    if not runtime.store.is_postgres:
        paths["sqlite3"] = SqliteInserter(runtime.store).insert
    return paths


@pytest.mark.parametrize("path", ["core", "sqlite3"])
def test_many_requests_in_one_insert_keep_their_own_counts(runtime: Runtime, path: str) -> None:
    insert = insert_paths(runtime).get(path)
    if insert is None:
        pytest.skip("the raw sqlite3 path exists on SQLite only")
    one, two = IncomingEvent("k", "shop:x", {}, "one"), IncomingEvent("k", "shop:x", {}, "two")
    again = IncomingEvent("k", "shop:y", {}, "again", repeatable=True)
    assert insert([("shop", [one, one, two]), ("other", [one]), ("shop", [two, again])]) == [2, 1, 1]
    assert insert([("shop", [one]), ("shop", [again])]) == [0, 0]  # "again" still waits: no second look
    with runtime.store.session() as s:
        s.execute(update(InboxEvent).where(InboxEvent.idem_key == "again").values(status="done"))
    assert insert([("shop", [again])]) == [1]  # processed since: a new look under the next key
    with runtime.store.session() as s:
        assert sorted((e.source, e.idem_key) for e in s.scalars(select(InboxEvent))) == [
            ("other", "one"), ("shop", "again"), ("shop", "again#2"), ("shop", "one"), ("shop", "two")]


def test_both_insert_paths_store_the_same_rows(runtime: Runtime) -> None:
    paths = insert_paths(runtime)
    payload = {"title": "Сделка «Ромашка»", "sum": 1.5, "tags": ["a", None, True], "nested": {"k": "\u2028"}}
    for name, insert in paths.items():
        assert insert([("shop", [IncomingEvent("deal.updated", f"shop:{name}", payload, f"key-{name}")])]) == [1]
    with runtime.store.session() as s:
        rows = {e.idem_key: e for e in s.scalars(select(InboxEvent))}
    core = rows["key-core"]
    for name in paths:
        row = rows[f"key-{name}"]
        assert (row.kind, row.entity_key, row.payload, row.status, row.attempts) == ("deal.updated", f"shop:{name}", payload, "pending", 0)
        assert row.received_at.tzinfo is not None and abs((row.received_at - core.received_at).total_seconds()) < 60
        assert row.next_attempt_at == row.received_at
    # Claimable like any other event: the claim query compares the stored times as the ORM writes them.
    claimed = runtime.inbox.claim("w", 10, 30)
    assert sorted(e.idem_key for e in claimed) == ["key-core"] + (["key-sqlite3"] if "sqlite3" in paths else [])
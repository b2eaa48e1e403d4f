"""`python app.py <command>`: run the relay, check its config, look into events, replay, timers."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from relay.config import ConfigError, load_config
from relay.logs import setup_logging
from relay.redact import REDACTOR

log = logging.getLogger("relay")
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
REPLAY_CHUNK = 500
# Commands contributed by connectors: name → (help, add_arguments(subparser), run(args, runtime) → exit code).
EXTRA_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace, Any], int]]] = {}


def register_command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None],
                     run: Callable[[argparse.Namespace, Any], int]) -> None:
    """Let a connector add `python app.py <name> ...` (it gets a ready Runtime)."""
    EXTRA_COMMANDS[name] = (help, add_arguments, run)


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def wrap(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        return fn
    return wrap


def _config(args: argparse.Namespace) -> Any:
    config = load_config(args.config)
    setup_logging(config.settings.logging.level, config.settings.logging.format)
    return config


def _runtime(args: argparse.Namespace) -> Any:
    from relay.runtime import Runtime
    return Runtime(_config(args))


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _serve(runtime: Any, block: bool) -> Any:
    from waitress.server import create_server

    from relay.web import create_app
    web = runtime.config.settings.web
    server = create_server(create_app(runtime), host=web.host, port=web.port, threads=web.threads,
                           max_request_body_size=web.max_body_bytes + 1, ident="crm-relay")
    log.info("web listening on http://%s:%s", web.host, server.effective_port)
    print(f"CRM Relay listening on http://{web.host}:{server.effective_port}", file=sys.stderr, flush=True)
    if block:
        server.run()
    else:
        threading.Thread(target=server.run, name="relay-web", daemon=True).start()
    return server


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    """Web + worker + scheduler in one process (the SQLite default); in sandbox mode also the emulators."""
    from relay.runtime import Runtime
    from relay.scheduler import Scheduler
    from relay.worker import Worker
    config = _config(args)
    if config.settings.mode == "sandbox":
        from relay.sandbox.serve import run_sandbox
        return run_sandbox(config)
    runtime = Runtime(config)
    worker, scheduler = Worker(runtime), Scheduler(runtime)
    worker.start()
    scheduler.start()
    server = _serve(runtime, block=False)
    _wait_for_signal()
    server.close()
    scheduler.stop()
    worker.stop()
    runtime.close()
    return 0


@command("sandbox")
def cmd_sandbox(args: argparse.Namespace) -> int:
    """The sandbox: every emulator under `sandbox:` with demo data, wired to the relay; `--demo` walks the demo stories."""
    from relay.sandbox.serve import sandbox_command
    return sandbox_command(_config(args), demo=args.demo)


@command("web")
def cmd_web(args: argparse.Namespace) -> int:
    """Only the web side (intake, health, metrics); for gunicorn use `relay.wsgi:app`."""
    _serve(_runtime(args), block=True)
    return 0


@command("worker")
def cmd_worker(args: argparse.Namespace) -> int:
    """Only a worker (and a scheduler candidate: one process leads at a time)."""
    from relay.scheduler import Scheduler
    from relay.worker import Worker
    runtime = _runtime(args)
    worker = Worker(runtime)
    worker.start()
    scheduler = None
    if not args.no_scheduler:
        scheduler = Scheduler(runtime)
        scheduler.start()
    _wait_for_signal()
    if scheduler:
        scheduler.stop()
    worker.stop()
    return 0


@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    """Validate config.yaml, every rule and mapping file, and lint the rules (`--live`: against the portal too)."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}")
        print(f"{len(exc.problems)} problem(s); the relay will not start until they are fixed.")
        return 1
    from relay.tooling.commands import report_check
    return report_check(config, getattr(args, "live", False))


@command("test")
def cmd_test(args: argparse.Namespace) -> int:
    """Run rule tests (rules/x_test.yaml beside rules/x.yaml) offline; exit code 1 on any failure."""
    from relay.tooling.commands import run_tests
    return run_tests(load_config(args.config), args.paths)


@command("simulate")
def cmd_simulate(args: argparse.Namespace) -> int:
    """Print the actions rules would take for an event or a deal now, as JSON; writes nothing."""
    from relay.tooling.commands import run_simulate
    return run_simulate(load_config(args.config), args.event, args.deal)


@command("events")
def cmd_events(args: argparse.Namespace) -> int:
    """Recent events, newest first."""
    from relay.store.schema import InboxEvent
    runtime = _runtime(args)
    query = select(InboxEvent).order_by(InboxEvent.id.desc()).limit(args.limit)
    if args.status:
        query = query.where(InboxEvent.status == args.status)
    if args.source:
        query = query.where(InboxEvent.source == args.source)
    with runtime.store.session() as s:
        rows = s.scalars(query).all()
        for ev in rows:
            error = f"  {ev.last_error[:80]}" if ev.last_error else ""
            print(f"{ev.id:>8}  {ev.received_at:%Y-%m-%d %H:%M:%S}  {ev.status:<10} {ev.source:<12} {ev.kind:<24} {ev.entity_key}{error}")
    if not rows:
        print("no events")
    waiting = runtime.reviews.counts()
    if waiting:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(waiting.items()))
        print(f"waiting for review: {kinds} (python app.py review)")
    return 0


@command("show")
def cmd_show(args: argparse.Namespace) -> int:
    """One event: its payload and its trace."""
    from relay.store.schema import InboxEvent
    runtime = _runtime(args)
    with runtime.store.session() as s:
        ev = s.get(InboxEvent, args.event)
        if ev is None:
            print(f"error: no event {args.event}; list them with `python app.py events`", file=sys.stderr)
            return 1
        print(f"event {ev.id}: {ev.source}/{ev.kind} entity={ev.entity_key} status={ev.status} attempts={ev.attempts}")
        print(f"received {ev.received_at.isoformat()}  idempotency key {ev.idem_key}")
        if ev.last_error:
            print(f"last error: {ev.last_error}")
        print("payload: " + json.dumps(ev.payload, ensure_ascii=False, indent=2))
    print("trace:")
    for step in runtime.tracer.steps(args.event):
        detail = f"  {json.dumps(step.detail, ensure_ascii=False, default=str)}" if step.detail else ""
        print(f"  {step.at:%H:%M:%S.%f}  {step.step:<16} {step.message}{detail}")
    return 0


@command("replay")
def cmd_replay(args: argparse.Namespace) -> int:
    """Queue events again (effects already done are not repeated)."""
    runtime = _runtime(args)
    ids = runtime.inbox.dead_ids() if args.dead else args.events
    if not ids:
        print("nothing to replay" if args.dead else "error: no events named; fix: `python app.py replay 12 13`, or `--dead` for every dead letter",
              file=sys.stderr if not args.dead else sys.stdout)
        return 0 if args.dead else 2
    from tqdm import tqdm
    count = 0
    # Chunks: thousands of dead letters are queued in short transactions (the intake keeps writing
    # meanwhile), and the bar shows how far it got.
    with tqdm(total=len(ids), unit="event", file=sys.stderr, disable=len(ids) < REPLAY_CHUNK, desc="replay") as bar:
        for start in range(0, len(ids), REPLAY_CHUNK):
            chunk = ids[start:start + REPLAY_CHUNK]
            count += runtime.inbox.replay(chunk)
            bar.update(len(chunk))
    print(f"queued {count} event(s) again; a running worker picks them up")
    return 0


@command("timers")
def cmd_timers(args: argparse.Namespace) -> int:
    """Timers (pending by default); `--cancel ID` cancels one."""
    runtime = _runtime(args)
    if args.cancel is not None:
        n = runtime.timers.cancel(timer_id=args.cancel)
        print(f"cancelled timer {args.cancel}" if n else f"timer {args.cancel} is not pending; nothing cancelled")
        return 0 if n else 1
    timers = runtime.timers.list(None if args.status == "all" else args.status)
    for t in timers:
        print(f"{t.id:>6}  {t.fire_at:%Y-%m-%d %H:%M:%S}  {t.status:<9} {t.kind:<24} {t.entity_key}  cancel_key={t.cancel_key or '-'}")
    if not timers:
        print("no timers")
    return 0


@command("docs")
def cmd_docs(args: argparse.Namespace) -> int:
    """Print the config reference generated from the code (docs/config-reference.md)."""
    from relay.config.reference import render_reference
    sys.stdout.write(render_reference())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="CRM Relay: connects your CRM with Telegram, forms, banks and finance tools.")
    p.add_argument("--config", default=os.environ.get("RELAY_CONFIG", "config.yaml"), help="config file (default: $RELAY_CONFIG or config.yaml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    for name in ("run", "web", "docs"):
        sub.add_parser(name, help=(COMMANDS[name].__doc__ or "").strip())
    from relay.tooling.commands import add_tooling_arguments
    add_tooling_arguments(sub, COMMANDS)  # check [--live], test, simulate
    sb = sub.add_parser("sandbox", help=cmd_sandbox.__doc__)
    sb.add_argument("--demo", action="store_true", help="walk the demo stories against the running sandbox (or start one here)")
    w = sub.add_parser("worker", help=cmd_worker.__doc__)
    w.add_argument("--no-scheduler", action="store_true", help="never lead the scheduler from this process")
    e = sub.add_parser("events", help=cmd_events.__doc__)
    e.add_argument("--status", choices=["pending", "processing", "done", "dead"])
    e.add_argument("--source")
    e.add_argument("--limit", type=int, default=50)
    s = sub.add_parser("show", help=cmd_show.__doc__)
    s.add_argument("event", type=int)
    r = sub.add_parser("replay", help=cmd_replay.__doc__)
    r.add_argument("events", type=int, nargs="*")
    r.add_argument("--dead", action="store_true", help="replay every dead-lettered event")
    t = sub.add_parser("timers", help=cmd_timers.__doc__)
    t.add_argument("--status", default="pending", choices=["pending", "fired", "cancelled", "all"])
    t.add_argument("--cancel", type=int, metavar="ID")
    from relay.registry import load_builtins
    load_builtins()
    for name, (help_text, add_arguments, _) in sorted(EXTRA_COMMANDS.items()):
        add_arguments(sub.add_parser(name, help=help_text))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command in EXTRA_COMMANDS:
            return EXTRA_COMMANDS[args.command][2](args, _runtime(args))
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"the relay did not start: fix the {len(exc.problems)} problem(s) above (`python app.py check` lists them)", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # the store is down or not set up: one line, not a traceback
        print(f"error: the store cannot be used ({REDACTOR.text(type(exc).__name__ + ': ' + str(exc).splitlines()[0])}); "
              "fix: check store.url in the config and that the database is running", file=sys.stderr)
        return 1

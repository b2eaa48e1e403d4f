"""Start the sandbox: the emulators the config lists, the relay pointed at them, their webhooks wired
to the relay; stop it all on Ctrl-C.

Order matters: emulators first (their ports and keys go into the connector settings), then the
relay built on those settings, then the wiring that needs the relay's URL (Telegram's setWebhook,
Tochka's registration test webhooks, Bitrix24's event handlers).
"""
from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.security import check_password_hash

from emulators.common.server import RunningServer, serve_in_thread
from relay.config.loader import SANDBOX_ADMIN_PASSWORD, LoadedConfig
from relay.config.models import SandboxEmulator
from relay.sandbox.emulators import EMULATORS, EmulatorSpec
from relay.sandbox.store import ForeignStore, empty_for_sandbox, mark_ready, shown, store_url


class SandboxError(Exception):
    """The sandbox cannot start; the message is the one line a person needs."""


@dataclass
class Started:
    spec: EmulatorSpec
    app: Flask
    server: RunningServer
    connected: bool = False   # a configured connector now points at it

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        if self.spec.close:
            self.spec.close(self.app)


def planned(config: LoadedConfig) -> list[tuple[EmulatorSpec, SandboxEmulator]]:
    """The `sandbox:` entries with their specs; refuses unknown names and clashing ports up front."""
    sandbox = config.settings.sandbox
    plan, ports = [], {config.settings.web.port: "web.port (the relay)"} if config.settings.web.port else {}
    for name in type(sandbox).model_fields:
        entry = getattr(sandbox, name)
        if entry is None:
            continue
        if name not in EMULATORS:
            raise SandboxError(f"sandbox.{name}: no emulator of that name is installed (known: {', '.join(sorted(EMULATORS))})")
        if entry.port and entry.port in ports:
            raise SandboxError(f"sandbox.{name}.port {entry.port} is also {ports[entry.port]} in {config.file}; give each its own port")
        if entry.port:
            ports[entry.port] = f"sandbox.{name}.port"
        plan.append((EMULATORS[name], entry))
    return plan


def start_emulators(config: LoadedConfig, plan: list[tuple[EmulatorSpec, SandboxEmulator]]) -> list[Started]:
    started: list[Started] = []
    try:
        for spec, entry in plan:
            seed = config.base_dir / entry.seed if entry.seed else None
            if seed is not None and not seed.is_file():
                raise SandboxError(f"sandbox.{spec.name}.seed: {seed} does not exist")
            problem = port_problem(entry.port)
            if problem:
                raise SandboxError(f"port {entry.port} for the {spec.title} emulator is taken ({problem}): is another "
                                   f"sandbox running? Stop it, or change sandbox.{spec.name}.port in {config.file}")
            app = spec.build(seed, config.connectors.get(spec.connector))
            started.append(Started(spec, app, serve_in_thread(app, port=entry.port)))
    except BaseException:
        stop_all(started)
        raise
    return started


def port_problem(port: int, host: str = "127.0.0.1") -> str:
    """Why `port` cannot be listened on ("" if it can). Checked first because werkzeug's server,
    given a taken port, prints its own advice and exits the process."""
    if port == 0:
        return ""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no clash
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return ""


def point_connectors(config: LoadedConfig, started: list[Started]) -> None:
    """Aim each configured connector at its emulator (URLs, Tochka's webhook key) before the relay is built."""
    for emulator in started:
        name = emulator.spec.connector
        if emulator.spec.point and name in config.connectors:
            config.connectors[name] = emulator.spec.point(config.connectors[name], emulator.url, emulator.app)
            emulator.connected = True


def wire(config: LoadedConfig, started: list[Started], relay: str) -> dict[str, list[str]]:
    """Make the emulators' outgoing webhooks reach the relay; returns what was wired, per emulator."""
    wired: dict[str, list[str]] = {}
    for emulator in started:
        settings = config.connectors.get(emulator.spec.connector)
        if emulator.spec.wire and settings is not None:
            try:
                wired[emulator.spec.name] = emulator.spec.wire(emulator.app, emulator.url, relay, settings)
            except Exception as exc:  # one line, never a traceback: the sandbox is a newcomer's first sight
                raise SandboxError(f"wiring the {emulator.spec.title} emulator to the relay failed: {exc}") from None
    return wired


def fresh_store(config: LoadedConfig) -> None:
    url = store_url(config)
    try:
        empty_for_sandbox(url)
    except ForeignStore as exc:
        raise SandboxError(f"the store {shown(url)} cannot be the sandbox's: {exc}. The sandbox empties its store at every "
                           f"start; give it one of its own (RELAY_DB_URL or store.url in {config.file})") from None


def stop_all(started: list[Started]) -> None:
    """Stop every emulator at once: each server takes up to its poll interval to notice."""
    stopping = [threading.Thread(target=emulator.stop, name=f"stop-{emulator.spec.name}") for emulator in started]
    for thread in stopping:
        thread.start()
    for thread in stopping:
        thread.join(timeout=10)


def summary(config: LoadedConfig, started: list[Started], wired: dict[str, list[str]], relay: str) -> list[str]:
    lines = ["", "CRM Relay sandbox: every outside system below is a local emulator with demo data (docs/sandbox.md)."]
    width = max([len("relay"), *(len(e.spec.name) for e in started)])
    for emulator in started:
        spec = emulator.spec
        extra = f" — {spec.describe(emulator.app, emulator.url)}" if spec.describe else ""
        lines.append(f"  {spec.name:<{width}} {emulator.url:<23} {spec.title}{extra}")
        if not emulator.connected:
            lines.append(f"  {'':<{width}} (no connector uses it: connectors.{spec.connector} is not configured)" if spec.point
                         else f"  {'':<{width}} (the emulator only: the relay has no connector wired to it yet)")
        lines += [f"  {'':<{width}} {line}" for line in wired.get(spec.name, [])]
    lines.append(f"  {'relay':<{width}} {relay:<23} admin {relay}/admin ({admin_hint(config)})")
    lines.append(f"  {'':<{width}} store {shown(store_url(config))}, emptied at each start: the emulators start from their seeds again")
    lines.append("Walk the demo stories: python app.py sandbox --demo (in another terminal). Ctrl-C stops everything.")
    return lines


def admin_hint(config: LoadedConfig) -> str:
    admin = config.settings.admin
    if admin is None:
        return "off: no admin section"
    sandbox_login = check_password_hash(admin.password_hash.get_secret_value(), SANDBOX_ADMIN_PASSWORD)
    return f"password: {SANDBOX_ADMIN_PASSWORD}" if sandbox_login else "your admin password"


def run_sandbox(config: LoadedConfig, demo: bool = False) -> int:
    """Serve the sandbox until Ctrl-C; with `demo`, walk the demo stories once it is up."""
    from relay.cli import _serve, _wait_for_signal
    from relay.runtime import Runtime
    from relay.scheduler import Scheduler
    from relay.worker import Worker
    started: list[Started] = []
    runtime: Any = None
    web: Any = None
    parts: list[Any] = []  # worker and scheduler, once started
    code = 0
    try:
        started = start_emulators(config, planned(config))
        point_connectors(config, started)
        fresh_store(config)
        runtime = Runtime(config)
        try:
            web = _serve(runtime, block=False)
        except OSError as exc:
            raise SandboxError(f"port {config.settings.web.port} for the relay is taken ({exc.strerror}): is another relay "
                               f"running? Stop it, or set RELAY_PORT / web.port in {config.file}") from None
        for part in (Worker(runtime), Scheduler(runtime)):
            part.start()
            parts.append(part)
        from relay.sandbox.demo import demo_against, relay_url
        relay = relay_url(config, web.effective_port)
        wired = wire(config, started, relay)
        mark_ready(runtime.store, relay)
        print("\n".join(summary(config, started, wired, relay)), flush=True)
        if demo:
            code = demo_against(config, relay, {e.spec.name: e.url for e in started})
            print("\nThe sandbox keeps running so you can look around; Ctrl-C stops it.", flush=True)
        _wait_for_signal()
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        code = 1
    except KeyboardInterrupt:
        code = 130
    finally:
        if web is not None:
            web.close()
        for part in reversed(parts):
            part.stop()
        stop_all(started)
        if runtime is not None:
            runtime.close()
    if web is not None:
        print("sandbox stopped", flush=True)
    return code


def sandbox_command(config: LoadedConfig, demo: bool) -> int:
    """`python app.py sandbox [--demo]`: only with `mode: sandbox` (a live config's connectors are real)."""
    if config.settings.mode != "sandbox":
        print(f"error: {config.file} is in live mode; the sandbox needs `mode: sandbox` (RELAY_MODE=sandbox)", file=sys.stderr)
        return 1
    if demo:
        from relay.sandbox.demo import run_demo
        return run_demo(config)
    return run_sandbox(config)

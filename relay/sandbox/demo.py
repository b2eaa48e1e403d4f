"""`python app.py sandbox --demo`: walk the seed stories against a running sandbox, step by step.

Each step acts the way a person would (a manager moves a deal in Bitrix24, a client writes in
Telegram, the bank sends a payment) through the emulators' own APIs, waits for the relay to react,
and prints what happened with the event ids and admin pages to look at. The stories are a list of
`Step`s (`steps()`); a new story is a module of steps listed there.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

from relay.config.loader import LoadedConfig
from relay.sandbox.watch import DemoFailed, Watch, describe, poll


class Skip(Exception):
    """The step cannot run in this sandbox (an emulator or connector is not configured)."""


@dataclass
class Demo:
    """What a step needs: the sandbox's URLs, the config, the relay's events, and what earlier steps made."""

    config: LoadedConfig
    relay: str
    urls: dict[str, str]          # emulator name → base URL
    watch: Watch
    state: dict[str, Any] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    def url(self, emulator: str) -> str:
        if emulator not in self.urls:
            raise Skip(f"sandbox.{emulator} is not configured")
        return self.urls[emulator]

    def connector(self, name: str) -> Any:
        if name not in self.config.connectors:
            raise Skip(f"connectors.{name} is not configured")
        return self.config.connectors[name]

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        """An HTTP call to an emulator or the relay; anything but 2xx stops the step with the answer."""
        answer = self.http.request(method, url, timeout=30, **kwargs)
        if not answer.ok:
            raise DemoFailed(f"{method} {url.split('?')[0]} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content and "json" in answer.headers.get("Content-Type", "") else answer.content

    def say(self, text: str) -> None:
        print("   " + text.replace("\n", "\n      "), flush=True)  # a message's later lines stay indented

    def report(self, since: int, sources: tuple[str, ...]) -> None:
        """Print the relay events of `sources` that arrived since `since`, with their traces."""
        for event in self.watch.events(since, sources):
            for line in describe(event, self.relay, self.watch.highlights(event.id)):
                self.say(line)


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[Demo], None]
    needs: tuple[str, ...] = ()   # sandbox emulators the step talks to


def steps() -> list[Step]:
    """The demo, in story order: Bitrix24 and Telegram, the banks, payment requests, Planfix and the brief."""
    from relay.sandbox import stories_bank, stories_crm, stories_planfix, stories_requests
    return [*stories_crm.STEPS, *stories_bank.STEPS, *stories_requests.STEPS, *stories_planfix.STEPS]


def walk(demo: Demo, plan: list[Step] | None = None) -> int:
    """Run every step; a failed step is reported and the walk goes on. 0 when every step worked."""
    plan = steps() if plan is None else plan
    print(f"\nDemo: the seed stories against the sandbox at {demo.relay}", flush=True)
    failed = 0
    for number, step in enumerate(plan, 1):
        print(f"\n{number}. {step.title}", flush=True)
        missing = [name for name in step.needs if name not in demo.urls]
        try:
            if missing:
                raise Skip(", ".join(f"sandbox.{name}" for name in missing) + " is not configured")
            step.run(demo)
        except Skip as exc:
            demo.say(f"skipped: {exc}")
        except (DemoFailed, requests.RequestException) as exc:
            failed += 1
            demo.say(f"✗ {exc}")
    print(f"\n{len(plan) - failed} of {len(plan)} steps worked." + (" See the ✗ lines above." if failed else ""), flush=True)
    print(f"Look around: {demo.relay}/admin (dashboard, events and their traces), or `python app.py events`.", flush=True)
    return 1 if failed else 0


def relay_url(config: LoadedConfig, port: int | None = None) -> str:
    web = config.settings.web
    host = "127.0.0.1" if web.host in ("", "0.0.0.0", "::") else web.host
    return f"http://{host}:{port if port is not None else web.port}"


def running_sandbox(config: LoadedConfig) -> dict[str, str] | None:
    """The emulator URLs of a sandbox already running with this config, or None if its relay does not answer."""
    sandbox = config.settings.sandbox
    entries = {name: getattr(sandbox, name) for name in type(sandbox).model_fields if getattr(sandbox, name) is not None}
    if config.settings.web.port == 0 or any(entry.port == 0 for entry in entries.values()):
        return None  # ports picked at start cannot be found from outside: run the demo in the sandbox's process
    try:
        if requests.get(f"{relay_url(config)}/healthz", timeout=3).status_code != 200:
            return None
    except requests.RequestException:
        return None
    urls = {name: f"http://127.0.0.1:{entry.port}" for name, entry in entries.items()}
    for name, url in urls.items():
        try:
            requests.get(url + "/", timeout=3)
        except requests.RequestException:
            raise DemoFailed(f"the relay answers at {relay_url(config)}, but the {name} emulator does not at {url}: "
                             f"is the relay running in sandbox mode with {config.file}?") from None
    return urls


def demo_against(config: LoadedConfig, relay: str, urls: dict[str, str]) -> int:
    watch = Watch(config)
    try:
        poll(watch.ready, f"the sandbox at {relay} getting ready (its emulators wired to the relay; if it runs, does it use this "
                          f"store? same config and RELAY_DB_URL)")
        return walk(Demo(config=config, relay=relay, urls=urls, watch=watch))
    except DemoFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        watch.close()


def run_demo(config: LoadedConfig) -> int:
    """Against the sandbox already running with this config; else start one here and keep it running."""
    try:
        urls = running_sandbox(config)
    except DemoFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if urls is not None:
        try:
            return demo_against(config, relay_url(config), urls)
        except KeyboardInterrupt:
            return 130
    from relay.sandbox.serve import run_sandbox
    print("No sandbox is running with this config: starting one here (it keeps running after the demo).", flush=True)
    return run_sandbox(config, demo=True)

"""The relay as real processes: web (`app.py web`, or gunicorn with several workers) and one or
more `app.py worker` processes on one store. Workers get SIGKILLed and started again; web
processes never are, so deliveries always find the relay."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from relay.store import Store
from relay.store.schema import Effect
from tests.support.process import ROOT, start_relay, wait_for


@dataclass(frozen=True)
class Topology:
    """How the relay is deployed: `web_processes` > 1 means gunicorn; `workers` worker processes."""

    web_processes: int = 1
    workers: int = 1


@dataclass
class Relay:
    config: Path
    port: int
    db_url: str
    env: dict[str, str]
    logs: Path
    topology: Topology = Topology()
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: list[dict[str, Any]] = field(default_factory=list)
    store: Store | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.topology.web_processes > 1:
            command = [sys.executable, "-m", "gunicorn", "-w", str(self.topology.web_processes), "-b", f"127.0.0.1:{self.port}",
                       "--graceful-timeout", "5", "relay.wsgi:app"]
            out = open(self.logs / "web.log", "ab")
            self.web = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                        env={**os.environ, **self.env, "RELAY_CONFIG": str(self.config)})
        else:
            self.web = start_relay(self.config, "web", log=self.logs / "web.log", env=self.env)
        wait_for(self._answers, seconds=60, what="the relay web process")
        self.workers = [self._worker(n) for n in range(self.topology.workers)]

    def _answers(self) -> bool:
        assert self.web is not None
        if self.web.poll() is not None:
            raise RuntimeError(f"relay web exited with {self.web.returncode}; see {self.logs / 'web.log'}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def _worker(self, n: int) -> subprocess.Popen[bytes]:
        return start_relay(self.config, "worker", log=self.logs / f"worker-{n}.log", env=self.env)

    def in_flight(self) -> int:
        assert self.store is not None
        with self.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(Effect).where(Effect.status == "started")) or 0)

    def kill_worker(self, aim_seconds: float = 3.0) -> dict[str, Any]:
        """SIGKILL a worker (the next in turn), preferably while a write is in flight (waiting up to
        `aim_seconds` for one); note which writes were started but not recorded; start it again."""
        if self.store is None:
            self.store = Store(self.db_url)
        n = len(self.kills) % len(self.workers)
        deadline = time.monotonic() + aim_seconds
        while self.in_flight() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait(timeout=30)
        with self.store.session() as s:
            started = [(e.key, e.action, e.event_id) for e in s.scalars(select(Effect).where(Effect.status == "started"))]
        kill = {"at": time.time(), "worker": n, "started": started}
        self.kills.append(kill)
        self.workers[n] = self._worker(n)
        return kill

    def stop(self) -> None:
        for process in [*self.workers, self.web]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self.store is not None:
            self.store.dispose()
            self.store = None

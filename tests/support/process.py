"""Start the relay as a real process (`python app.py ... run`) and wait until it answers."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_relay(config: Path, command: str = "run", log: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = open(log or config.with_suffix(f".{command}.log"), "ab")
    return subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(config), command],
                            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})})


def wait_healthy(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the relay exited with {process.returncode} before answering")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url}/healthz did not answer 200 within {seconds}s")


def wait_for(check: "callable[[], bool]", seconds: float = 30, what: str = "condition") -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)

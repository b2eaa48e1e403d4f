"""Fault injection shared by every emulator: 5xx pages, slow answers, connection resets.

Wrap an emulator's WSGI app in `FaultInjector`; tests steer it over HTTP at `/_emulator/faults`
(GET shows the settings, POST replaces them) or in process through `injector.settings`.
Paths under `/_emulator/` are never faulted, so a test can always reach the control endpoints.
"""
from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["500", "502", "503", "timeout", "reset"]

_HTML_PAGES = {
    "500": ("500 Internal Server Error", b"<html><head><title>500 Internal Server Error</title></head>"
            b"<body><h1>Internal Server Error</h1></body></html>"),
    "502": ("502 Bad Gateway", b"<html><head><title>502 Bad Gateway</title></head>"
            b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"),
    "503": ("503 Service Unavailable", b"<html><head><title>503 Service Unavailable</title></head>"
            b"<body><center><h1>503 Service Unavailable</h1></center><hr><center>nginx</center></body></html>"),
}


class FaultSettings(BaseModel):
    """What to break, how often. Rates are probabilities per request, checked in this order."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1, description="share of requests answered with a 500/502 HTML page")
    timeout_rate: float = Field(0.0, ge=0, le=1, description="share of requests held for `timeout_seconds`, then answered 504")
    reset_rate: float = Field(0.0, ge=0, le=1, description="share of requests whose connection is reset")
    timeout_seconds: float = Field(30.0, ge=0)
    delay_seconds: float = Field(0.0, ge=0, description="added before every answer")
    seed: int | None = None
    script: list[FaultKind | Literal["ok"]] = Field(
        default_factory=list, description="faults for the next requests, in order, before the rates apply")
    down: bool = Field(False, description="every request is refused with a reset, as if the host were down")


class FaultInjector:
    """WSGI middleware that breaks requests according to `settings`; counts what it broke."""

    def __init__(self, app: Callable[..., Iterable[bytes]], settings: FaultSettings | None = None) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self._script: deque[str] = deque(settings.script)

    def _pick(self) -> str:
        with self._lock:
            s = self.settings
            if s.down:
                return "reset"
            if self._script:
                return self._script.popleft()
            roll = self._random.random()
            if roll < s.error_rate:
                return self._random.choice(["500", "502"])
            roll -= s.error_rate
            if roll < s.timeout_rate:
                return "timeout"
            roll -= s.timeout_rate
            if roll < s.reset_rate:
                return "reset"
            return "ok"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/faults"):
            return self._control(environ, start_response)
        if path.startswith("/_emulator/"):
            return self.app(environ, start_response)
        fault = self._pick()
        if self.settings.delay_seconds:
            time.sleep(self.settings.delay_seconds)
        if fault == "ok":
            return self.app(environ, start_response)
        with self._lock:
            self.injected[fault] = self.injected.get(fault, 0) + 1
        # Read the body the app never will: left unread, the server would parse it as the start of
        # the next request on the connection (a 400 for the client's next call, or log noise).
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:
            environ["wsgi.input"].read(length)
        if fault == "reset":
            return self._reset(environ, start_response)
        if fault == "timeout":
            time.sleep(self.settings.timeout_seconds)
            status, body = "504 Gateway Time-out", b"<html><body><h1>504 Gateway Time-out</h1></body></html>"
        else:
            status, body = _HTML_PAGES[fault]
        start_response(status, [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
        return [body]

    def _reset(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            # SO_LINGER 0 makes the final close send RST; shutdown ends the exchange now, even though
            # the server still holds file objects on the socket.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
            # werkzeug treats a ConnectionError from the app as a dropped client and stays quiet.
            raise ConnectionResetError("fault injected: connection reset")
        # Not under werkzeug: the nearest honest thing is an empty 502.
        start_response("502 Bad Gateway", [("Content-Length", "0")])
        return [b""]

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b"{}"
            try:
                self.configure(FaultSettings.model_validate_json(raw or b"{}"))
            except ValueError as exc:
                body = json.dumps({"error": str(exc)}).encode()
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [body]
        body = json.dumps({"settings": self.settings.model_dump(), "injected": self.injected}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

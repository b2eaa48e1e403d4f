"""A throwaway HTTP receiver that records webhooks: the "relay side" for emulator tests.

Bank emulators push webhooks; a test needs somewhere real to push them, a way to answer 500
a few times (to see retries) and a record of exactly what arrived (raw body, headers).
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Any

from flask import Flask, Response, request


class WebhookSink:
    """Records every POST to any path; answers with the next scripted status, then `default_status`."""

    def __init__(self, default_status: int = 200) -> None:
        self.default_status = default_status
        self.received: list[dict[str, Any]] = []
        self._script: deque[int] = deque()
        self._lock = threading.Lock()
        self.app = self._build()

    def script(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        with self._lock:
            self._script.extend(statuses)

    def reset(self) -> None:
        """Forget what arrived and any scripted answers."""
        with self._lock:
            self.received.clear()
            self._script.clear()

    def bodies(self) -> list[str]:
        with self._lock:
            return [r["body"] for r in self.received]

    def _build(self) -> Flask:
        app = Flask("webhook_sink")

        @app.post("/", defaults={"path": ""})
        @app.post("/<path:path>")
        def receive(path: str) -> Response:
            with self._lock:
                status = self._script.popleft() if self._script else self.default_status
                self.received.append({"path": "/" + path, "headers": dict(request.headers),
                                      "body": request.get_data(as_text=True), "answered": status})
            return Response("ok" if status < 400 else "error", status=status, mimetype="text/plain")

        return app

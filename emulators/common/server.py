"""Serve a WSGI app on a real loopback port, in a thread or as the main program.

Emulators and tests both need "a real HTTP server at a URL"; this is the one place that starts one.
"""
from __future__ import annotations

import argparse
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class RunningServer:
    """A WSGI app listening on 127.0.0.1; `url` has no trailing slash."""

    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_in_thread(app: Any, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
    """Start `app` on `host:port` (0 picks a free port) in a daemon thread, threaded per request."""
    # Per-request access lines from werkzeug drown test output; warnings and errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(server=server, thread=thread)


def serve_forever(app: Any, port: int, host: str = "127.0.0.1") -> None:
    """Run `app` in the foreground until interrupted (the `python -m emulators.X` entry points)."""
    server = make_server(host, port, app, threaded=True)
    print(f"listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def run_main(build_app: Callable[[str | None], Any], description: str, default_port: int,
             argv: list[str] | None = None) -> None:
    """`python -m emulators.X --port N [--host H] [--seed file.yaml]` for the emulators that take nothing more.

    `build_app(seed_path_or_None)` makes the app; the emulator's own entry point only names itself and its port.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", default=None, help="seed YAML (default: seeds/demo.yaml)")
    args = parser.parse_args(argv)
    serve_forever(build_app(args.seed), args.port, args.host)

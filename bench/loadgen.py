"""A loopback HTTP load generator run in its own process, so it does not share the server's GIL.

Two modes: `closed` (N connections sending back-to-back: the most the server can take) and `open`
(a fixed request rate; latency is measured from each request's scheduled time, so a slow server
cannot hide its queueing by slowing the generator down).
"""
from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

MakeRequest = Callable[[int], tuple[bytes, dict[str, str]]]


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class _Connection:
    """One keep-alive connection per sender thread; a request that fails at the socket counts as status 0
    and the next one goes out on a fresh connection, so a server that drops connections is measured, not fatal."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._conn = self._open()

    def _open(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=30)

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            self._conn.request("POST", self._path, body=body, headers=headers)
            response = self._conn.getresponse()
            response.read()
            return response.status
        except OSError:
            self._conn.close()
            self._conn = self._open()
            return 0


def _record(result: LoadResult, lock: threading.Lock, status: int, latency: float) -> None:
    with lock:
        result.sent += 1
        result.ok += status == 200
        result.errors += status != 200
        result.latencies.append(latency)


def _run_threads(run: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def closed_loop(url: str, make: MakeRequest, connections: int, seconds: float, first_id: int = 0) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(first_id, 10**12))
    stop_at = time.perf_counter() + seconds

    def run() -> None:
        conn = _Connection(url)
        while time.perf_counter() < stop_at:
            with lock:
                n = next(counter)
            body, headers = make(n)
            started = time.perf_counter()
            status = conn.post(body, headers)
            _record(result, lock, status, time.perf_counter() - started)

    began = time.perf_counter()
    _run_threads(run, connections)
    result.seconds = time.perf_counter() - began
    return result


def open_loop(url: str, make: MakeRequest, rate: float, seconds: float, connections: int = 32, first_id: int = 0) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    schedule = iter(range(total))

    def run() -> None:
        conn = _Connection(url)
        while True:
            with lock:
                n = next(schedule, None)
            if n is None:
                return
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body, headers = make(first_id + n)
            status = conn.post(body, headers)
            _record(result, lock, status, time.perf_counter() - due)

    _run_threads(run, connections)
    result.seconds = time.perf_counter() - start
    return result

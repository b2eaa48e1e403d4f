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


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30), parts.path


def _send(conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> int:
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def closed_loop(url: str, make: MakeRequest, connections: int, seconds: float, first_id: int = 0) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(first_id, 10**12))
    stop_at = time.perf_counter() + seconds

    def run() -> None:
        conn, path = _connection(url)
        while time.perf_counter() < stop_at:
            with lock:
                n = next(counter)
            body, headers = make(n)
            started = time.perf_counter()
            try:
                status = _send(conn, path, body, headers)
            except OSError:
                conn.close()
                conn, path = _connection(url)
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                result.sent += 1
                result.ok += status == 200
                result.errors += status != 200
                result.latencies.append(elapsed)

    began = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def open_loop(url: str, make: MakeRequest, rate: float, seconds: float, connections: int = 32, first_id: int = 0) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    schedule = iter(range(total))

    def run() -> None:
        conn, path = _connection(url)
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
            try:
                status = _send(conn, path, body, headers)
            except OSError:
                conn.close()
                conn, path = _connection(url)
                status = 0
            latency = time.perf_counter() - due
            with lock:
                result.sent += 1
                result.ok += status == 200
                result.errors += status != 200
                result.latencies.append(latency)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    return result

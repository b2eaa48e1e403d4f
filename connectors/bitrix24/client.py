"""Bitrix24 REST through fast-bitrix24, with calls from many threads sharing `batch` requests.

Every call (a read-back, a write, a small ordered group of writes) waits briefly for others; up to 50
commands go out as one `batch`, which the portal's leaky bucket counts as one request. fast-bitrix24
does the HTTP and its leaky-bucket throttle; a failed request is retried by the worker, not inside
fast-bitrix24 — except 503, the portal's "slow down" (see `_RateLimitsOnly`).
"""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from fast_bitrix24 import BitrixAsync
from fast_bitrix24.srh import ServerError
from sqlalchemy.exc import SQLAlchemyError

from connectors.bitrix24.settings import Bitrix24Settings
from connectors.bitrix24.wire import build_query
from relay.aio import LoopThread
from relay.errors import PermanentError, TransientError, UpstreamUnavailable
from relay.ratelimit import SharedBucket
from relay.redact import REDACTOR

MAX_BATCH = 50
TRANSIENT_CODES = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT", "INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"}


class BitrixError(PermanentError):
    """An error the portal answered for one command (transient codes become TransientError instead)."""

    def __init__(self, method: str, code: str, description: str) -> None:
        super().__init__(f"{method}: {code or 'error'}: {description}")
        self.method, self.code, self.description = method, code, description

    @property
    def not_found(self) -> bool:
        return self.code in ("NOT_FOUND", "") and "not found" in self.description.lower()


@dataclass
class Command:
    method: str
    params: dict[str, Any]
    label: str = ""  # other commands of the same group may refer to `$result[label]`


@dataclass
class _Unit:
    commands: list[Command]
    future: "asyncio.Future[list[Any]]"
    labels: list[str] = field(default_factory=list)


class Bitrix24Client:
    def __init__(self, settings: Bitrix24Settings, loop: LoopThread, budget: SharedBucket | None = None) -> None:
        self.settings = settings
        self.loop = loop
        self.budget = budget  # the portal's bucket shared with other processes, if any
        self._labels = itertools.count(1)
        self.requests_sent = 0
        self.commands_sent = 0
        self._pending: list[_Unit] = []
        self._wake: asyncio.Event | None = None
        self._bx: BitrixAsync | None = None
        loop.run(self._start())

    async def _start(self) -> None:
        self._bx = BitrixAsync(self.settings.webhook_url.get_secret_value(), verbose=False,
                               request_pool_size=self.settings.burst, requests_per_second=self.settings.requests_per_second)
        self._bx.srh.failure = _RateLimitsOnly(self._bx.srh)  # type: ignore[method-assign]
        self._wake = asyncio.Event()
        asyncio.get_running_loop().create_task(self._flusher())

    # --- what callers use (from any thread) ---------------------------------------------------
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """One command, batched with whatever else is waiting. Raises BitrixError for its error."""
        return self.group([Command(method, params or {})])[0]

    def group(self, commands: list[Command]) -> list[Any]:
        """Commands sent in one batch, in order, so later ones may use `$result[label]` of earlier ones."""
        if len(commands) > MAX_BATCH:
            raise ValueError(f"a command group holds at most {MAX_BATCH} commands")
        return self.loop.run(self._submit(commands), timeout=self.settings.timeout_seconds * 3)

    def raw(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A direct, unbatched call returning the whole envelope (list paging needs `next`/`total`)."""
        return self.loop.run(self._raw(method, params), timeout=self.settings.timeout_seconds * 3)

    def list_all(self, method: str, params: dict[str, Any], key: str = "ID") -> list[dict[str, Any]]:
        """Every row, by the portal's fast pattern: order by ID, `>ID` filter, `start=-1` (no count)."""
        rows: list[dict[str, Any]] = []
        last = 0
        while True:
            query = {**params, "order": {key: "ASC"}, "filter": {**params.get("filter", {}), f">{key}": last}, "start": -1}
            page = self.raw(method, query).get("result") or []
            if isinstance(page, dict):  # crm.item.list wraps its rows
                page = page.get("items", [])
            rows.extend(page)
            if len(page) < 50:
                return rows
            last = int(page[-1].get(key) or page[-1].get(key.lower()))

    # --- batching on the loop ---------------------------------------------------------------
    async def _submit(self, commands: list[Command]) -> list[Any]:
        assert self._wake is not None
        unit = _Unit(commands, asyncio.get_running_loop().create_future())
        self._pending.append(unit)
        self._wake.set()
        return await unit.future

    async def _flusher(self) -> None:
        """Send what is waiting. A full batch goes at once; a partial one waits out the steady rate
        (1/requests_per_second since the last send), gathering more commands meanwhile, so the
        portal's burst allowance is kept for full batches instead of being spent on tiny ones."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        last_sent = 0.0
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.settings.batch_linger_seconds:
                await asyncio.sleep(self.settings.batch_linger_seconds)
            while self._pending:
                waiting = sum(len(u.commands) for u in self._pending)
                pause = last_sent + 1.0 / self.settings.requests_per_second - loop.time()
                if waiting < MAX_BATCH and pause > 0:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), pause)
                    except asyncio.TimeoutError:
                        pass
                    continue
                batch, size = [], 0
                while self._pending and size + len(self._pending[0].commands) <= MAX_BATCH:
                    unit = self._pending.pop(0)
                    batch.append(unit)
                    size += len(unit.commands)
                last_sent = loop.time()
                loop.create_task(self._send(batch))

    async def _send(self, units: list[_Unit]) -> None:
        cmd: dict[str, str] = {}
        for unit in units:
            names: dict[str, str] = {}
            for command in unit.commands:
                label = f"c{next(self._labels)}"
                if command.label:
                    names[command.label] = label
                query = build_query(command.params)
                for mine, real in names.items():  # group-local names → batch-wide labels
                    query = query.replace(f"$result[{mine}]", f"$result[{real}]")
                cmd[label] = f"{command.method}?{query}" if query else command.method
                unit.labels.append(label)
        self.commands_sent += len(cmd)
        try:
            envelope = await self._post("batch", {"halt": 0, "cmd": cmd})
        except Exception as exc:
            for unit in units:
                if not unit.future.done():
                    unit.future.set_exception(exc)
            return
        body = envelope.get("result") or {}
        results = body.get("result") or {}
        errors = body.get("result_error") or {}
        results = results if isinstance(results, dict) else {}
        errors = errors if isinstance(errors, dict) else {}
        for unit in units:
            failed = next((label for label in unit.labels if label in errors), None)
            if failed is not None:
                error = errors[failed]
                method = cmd[failed].split("?", 1)[0]
                unit.future.set_exception(_classify(BitrixError(method, str(error.get("error", "")), str(error.get("error_description", "")))))
            else:
                unit.future.set_result([results.get(label) for label in unit.labels])

    async def _raw(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        envelope = await self._post(method, params)
        if "error" in envelope:
            raise _classify(BitrixError(method, str(envelope.get("error", "")), str(envelope.get("error_description", ""))))
        return envelope

    async def _post(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self._bx is not None
        if self.budget is not None:
            try:
                wait = await asyncio.get_running_loop().run_in_executor(None, self.budget.reserve)
            except SQLAlchemyError as exc:
                raise TransientError(f"Bitrix24 {method}: the shared request budget is unavailable ({type(exc).__name__})") from None
            if wait > 0:
                await asyncio.sleep(wait)
        self.requests_sent += 1
        try:
            result = await asyncio.wait_for(self._bx.call(method, params, raw=True), self.settings.timeout_seconds)
        except aiohttp.ClientResponseError as exc:
            # fast-bitrix24 drops the error body of 4xx answers; the status still says enough.
            if exc.status in (401, 403):
                raise PermanentError(f"Bitrix24 refused the webhook credentials (HTTP {exc.status}); check connectors.bitrix24.webhook_url") from None
            if exc.status >= 500:
                raise UpstreamUnavailable("Bitrix24", f"Bitrix24 {method}: HTTP {exc.status}") from None
            raise TransientError(f"Bitrix24 {method}: HTTP {exc.status}", retry_after=5.0 if exc.status == 429 else None) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise UpstreamUnavailable("Bitrix24", REDACTOR.text(f"Bitrix24 {method}: {type(exc).__name__}: {exc}")) from None
        except ServerError as exc:
            status = getattr(exc.__cause__, "status", "5xx")
            raise UpstreamUnavailable("Bitrix24", f"Bitrix24 {method}: HTTP {status}") from None
        except RuntimeError as exc:  # fast-bitrix24 gave up retrying 503s: the portal is overloaded or down
            raise UpstreamUnavailable("Bitrix24", REDACTOR.text(f"Bitrix24 {method}: HTTP 503 ten times in a row ({exc})")) from None
        if not isinstance(result, dict):
            raise TransientError(f"Bitrix24 {method}: unexpected answer {type(result).__name__}")
        return result

    def close(self) -> None:
        self.loop.close()


class _RateLimitsOnly:
    """Replaces fast-bitrix24's failure hook, which retries every 5xx answer, timeout and lost
    connection, counting failures in one counter shared by all calls and sleeping 0.5 s × 1.5^failures
    before each request until a success: after a long outage every later call would wait for hours
    and the client never recovered. Here only 503 — how the portal says QUERY_LIMIT_EXCEEDED — gets
    fast-bitrix24's slowing down and retrying, with the counter reset whenever it gives up. Any other
    failure goes to the worker at once, which waits out an outage without using up attempts."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.retry = handler.failure

    def __call__(self, error: Exception) -> None:
        if not (isinstance(error, ServerError) and getattr(error.__cause__, "status", None) == 503):
            raise error
        try:
            self.retry(error)
        except RuntimeError:
            self.handler.successive_results = 0
            raise


def _classify(error: BitrixError) -> Exception:
    if error.code in TRANSIENT_CODES:
        return TransientError(str(error))
    return error

"""One asyncio loop in a background thread, serving synchronous callers (the worker's threads).

python-telegram-bot and fast-bitrix24's async client want a loop; the worker is threaded and sync.
Each connector owns a LoopThread and submits coroutines to it, so sessions and connection pools live
on one loop for the connector's whole life instead of being rebuilt by `asyncio.run` per call.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"aio-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for its result here (re-raising its exception)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop; await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel what still runs on the loop (background flushers), then stop it. A pending task left
        on a stopped loop is destroyed later by the garbage collector, which logs from wherever the
        collection happens — even from inside another thread's compile()."""
        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), self.loop).result(5)
            except Exception:  # a task that refuses to end must not keep the relay from stopping
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


async def _cancel_other_tasks() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

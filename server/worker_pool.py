"""Idle query workers, handed to the requests waiting for one in arrival order.

Everything happens on the event loop: a request waits on a future, and releasing a worker
completes the oldest one. The earlier design parked each waiting request in a pool thread
blocked on a ``queue.Queue``, so every hand-over woke a thread that then competed with the
event loop for the GIL (distinct lookups at concurrency 16 on 100k quads, alternating runs:
1,000-1,100/s before, 1,150-1,290/s after; docs/endpoint.md "Benchmark").
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

Worker = TypeVar("Worker")


class NoWorkerFree(Exception):
    """No worker was released within the time a request may wait."""


class WorkerPool(Generic[Worker]):
    """Workers not in use, and the requests waiting for one; bound to one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._idle: deque[Worker] = deque()
        self._waiters: deque[asyncio.Future[Worker]] = deque()

    @property
    def idle(self) -> int:
        return len(self._idle)

    def release(self, worker: Worker) -> None:
        """Give ``worker`` to the oldest request still waiting, else keep it (loop only)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def release_threadsafe(self, worker: Worker) -> None:
        """``release`` from another thread (a worker started in the background)."""
        self._loop.call_soon_threadsafe(self.release, worker)

    async def borrow(self, timeout: float) -> Worker:
        """A worker, waiting at most ``timeout`` s (then NoWorkerFree).

        The most recently released worker first: its caches are warm.
        """
        if self._idle:
            return self._idle.pop()
        waiter: asyncio.Future[Worker] = self._loop.create_future()
        self._waiters.append(waiter)
        expiry = self._loop.call_later(timeout, _expire, waiter, timeout)
        try:
            return await waiter
        except asyncio.CancelledError:  # the request left: a worker it was given goes back
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())
            raise
        finally:
            expiry.cancel()


def _expire(waiter: asyncio.Future[Worker], timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(NoWorkerFree(f"every query worker stayed busy for {timeout:g} s"))

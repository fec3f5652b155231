"""The pool that hands query workers to waiting requests (server/worker_pool.py).

The endpoint tests cover it through the live server (time limits, busy workers, clients
leaving); these pin the hand-over rules themselves on a real event loop.
"""

from __future__ import annotations

import asyncio

import pytest

from santecyber.server.worker_pool import NoWorkerFree, WorkerPool


def test_waiting_requests_get_workers_in_arrival_order() -> None:
    async def scenario() -> list[tuple[int, str]]:
        pool: WorkerPool[str] = WorkerPool(asyncio.get_running_loop())
        served: list[tuple[int, str]] = []

        async def request(number: int) -> None:
            worker = await pool.borrow(5)
            served.append((number, worker))

        waiting = [asyncio.create_task(request(n)) for n in range(3)]
        await asyncio.sleep(0)  # all three are waiting now
        for worker in ("a", "b", "c"):
            pool.release(worker)
        await asyncio.gather(*waiting)
        return served

    assert asyncio.run(scenario()) == [(0, "a"), (1, "b"), (2, "c")]


def test_an_idle_worker_is_taken_at_once_most_recent_first() -> None:
    async def scenario() -> tuple[str, str, int]:
        pool: WorkerPool[str] = WorkerPool(asyncio.get_running_loop())
        pool.release("cold")
        pool.release("warm")
        first, second = await pool.borrow(0.01), await pool.borrow(0.01)
        return first, second, pool.idle

    assert asyncio.run(scenario()) == ("warm", "cold", 0)


def test_no_worker_within_the_wait_raises_and_a_later_worker_stays_idle() -> None:
    async def scenario() -> tuple[str, int]:
        pool: WorkerPool[str] = WorkerPool(asyncio.get_running_loop())
        with pytest.raises(NoWorkerFree, match=r"busy for 0\.05 s"):
            await pool.borrow(0.05)
        pool.release("late")  # nobody waits any more: kept for the next request
        return await pool.borrow(0.01), pool.idle

    assert asyncio.run(scenario()) == ("late", 0)


def test_a_request_that_leaves_does_not_lose_the_worker_it_was_given() -> None:
    async def scenario() -> tuple[bool, str]:
        pool: WorkerPool[str] = WorkerPool(asyncio.get_running_loop())
        leaving = asyncio.create_task(pool.borrow(5))
        await asyncio.sleep(0)
        pool.release("w")  # handed over, but the request is cancelled before it resumes
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return leaving.cancelled(), await pool.borrow(0.01)

    assert asyncio.run(scenario()) == (True, "w")


def test_a_request_cancelled_while_waiting_is_skipped_at_release() -> None:
    async def scenario() -> str:
        pool: WorkerPool[str] = WorkerPool(asyncio.get_running_loop())
        gone = asyncio.create_task(pool.borrow(5))
        staying = asyncio.create_task(pool.borrow(5))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        pool.release("w")
        return await staying

    assert asyncio.run(scenario()) == "w"

"""LoopBatcher: requests of one loop tick share a batch; no fill wait; cancelled callers leave at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from oneiros_server.errors import Overloaded
from oneiros_server.scheduling.loop import LoopBatcher


@pytest.mark.parametrize("on_loop", [False, True])
def test_concurrent_calls_coalesce_and_a_lone_call_runs_at_once(on_loop):
    calls: list[int] = []

    def run(items):
        calls.append(len(items))
        return [x * 2 for x in items]

    batcher = LoopBatcher(run, name="t", max_size=16, max_queue=100, on_loop=on_loop)

    async def main():
        alone = await batcher.run(21)
        together = await asyncio.gather(*(batcher.run(i) for i in range(40)))
        return alone, together

    alone, together = asyncio.run(main())
    batcher.close()
    assert alone == 42 and together == [2 * i for i in range(40)]
    assert calls[0] == 1 and sum(calls) == 41 and max(calls) <= 16 and len(calls) < 41


def test_a_cancelled_caller_leaves_the_queue_unrun_and_full_queues_refuse():
    gate = threading.Event()
    ran: list[int] = []

    def run(items):
        if items != [0]:
            gate.wait(5)
        ran.extend(items)
        return items

    batcher = LoopBatcher(run, name="t", max_size=1, max_queue=1)

    async def main():
        eager = asyncio.ensure_future(batcher.run(0))  # the first call of the tick runs at once
        first = asyncio.ensure_future(batcher.run(1))  # the rest of the tick: a batch on the worker
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # that batch is running (blocked on the gate)
        assert await eager == 0
        queued = asyncio.ensure_future(batcher.run(2))
        await asyncio.sleep(0)
        assert batcher.depth == 1
        with pytest.raises(Overloaded):
            await batcher.run(3)
        queued.cancel()
        await asyncio.sleep(0)
        assert batcher.depth == 0
        later = asyncio.ensure_future(batcher.run(4))  # the slot is free
        gate.set()
        return await first, await later

    assert asyncio.run(main()) == (1, 4)
    batcher.close()
    assert 2 not in ran


def test_errors_reach_every_caller_of_the_batch():
    def run(items):
        raise ValueError("boom")

    batcher = LoopBatcher(run, name="t", max_size=8, max_queue=8)

    async def main():
        return await asyncio.gather(*(batcher.run(i) for i in range(3)), return_exceptions=True)

    assert all(isinstance(r, ValueError) for r in asyncio.run(main()))
    batcher.close()


def test_without_inline_first_even_a_lone_call_runs_on_the_worker():
    threads: list[str] = []

    def run(items):
        threads.append(threading.current_thread().name)
        return list(items)

    batcher = LoopBatcher(run, name="long", max_size=4, max_queue=10, inline_first=False)

    async def main():
        return await batcher.run(1), await asyncio.gather(*(batcher.run(i) for i in range(3)))

    alone, together = asyncio.run(main())
    batcher.close()
    assert alone == 1 and together == [0, 1, 2]
    assert threads and all(name.startswith("batcher-long") for name in threads)  # never the event loop's thread

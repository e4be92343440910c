"""Dynamic batching for coroutines: one thread hand-off per batch, not per request.

``LoopBatcher.run(x)`` (awaited on the event loop): when the runtime is idle and
nothing is queued, the first call of a loop tick runs at once, right there (one
client pays no hand-off); the calls that arrive in the rest of the tick, or
while a batch runs, are queued and run as one batch on the batcher's own worker
thread (the session releases the GIL, so compute overlaps the loop's I/O), and
its results come back with one ``call_soon_threadsafe`` for the whole batch.
With ``on_loop`` every batch runs on the event loop instead (no thread at all).
Requests that arrive while a batch runs form the next one, which starts as soon
as the runtime is free: nothing ever waits for a batch to fill. With
``inline_first=False`` (long runs, such as a style network's) even a lone call runs
on the worker, never on the loop. The queue is bounded (``Overloaded`` at once); a cancelled caller's item leaves it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from oneiros_server.errors import Overloaded
from oneiros_server.observability import metrics, tracing


@dataclass
class BatchStats:
    """Runs, items and the largest batch of one batcher (for tests and benchmarks)."""

    batches: int = 0
    items: int = 0
    largest: int = 0


class LoopBatcher:
    """Batches awaited calls of ``run_batch(items) -> results`` (see the module docstring)."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[Any]], Sequence[Any]],
        *,
        name: str,
        max_size: int,
        max_queue: int,
        on_loop: bool = False,
        inline_first: bool = True,
    ):
        self.run_batch = run_batch
        self.name = name
        self.max_size = max_size
        self.max_queue = max_queue
        self.stats = BatchStats()
        self._queue: deque[tuple[Any, int, asyncio.Future, float, tracing.Captured | None]] = deque()
        self._queued_size = 0
        self._busy = False
        self._scheduled = False
        self._tick_open = False
        self.on_loop = on_loop  # run batches on the event loop itself (small models: no hand-off)
        self.inline_first = inline_first  # False: even a lone call runs on the worker (long runs)
        self._worker = None if on_loop else ThreadPoolExecutor(1, thread_name_prefix=f"batcher-{name}")
        self._depth = metrics.QUEUE_DEPTH.labels(name)

    @property
    def depth(self) -> int:
        return self._queued_size

    async def run(self, item: Any, size: int = 1) -> Any:
        """``item``'s result; cancelling the caller drops a queued item at once."""
        if self._queued_size + size > self.max_queue and self._queue:
            metrics.QUEUE_REJECTED.labels(self.name).inc()
            raise Overloaded(f"{self.name} queue is full ({self._queued_size}/{self.max_queue} queued)", 0.05)
        loop = asyncio.get_running_loop()
        trace = tracing.capture()
        if self.inline_first and not self._busy and not self._tick_open and not self._queue:
            # The first call of a loop tick runs at once (nothing to wait for); the calls that
            # arrive in the rest of this tick form one batch when it ends.
            self._tick_open = True
            loop.call_soon(self._close_tick, loop)
            started = time.monotonic()
            result = tracing.run_for("oneiros.batch", [trace], self._span_attributes(size), self.run_batch, [item])[0]
            self._count(size, time.monotonic() - started)
            return result
        future = loop.create_future()
        entry = (item, size, future, time.monotonic(), trace)
        self._queue.append(entry)
        self._queued_size += size
        self._depth.set(self._queued_size)
        if not self._busy and not self._scheduled and not self._tick_open:
            self._scheduled = True
            loop.call_soon(self._flush, loop)
        try:
            return await future
        except asyncio.CancelledError:
            try:
                self._queue.remove(entry)
                self._queued_size -= size
                self._depth.set(self._queued_size)
            except ValueError:
                pass  # already taken: the runtime call finishes, its result is dropped
            raise

    def _close_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._tick_open = False
        if self._queue and not self._scheduled and not self._busy:
            self._flush(loop)

    def _span_attributes(self, total: int) -> dict:
        return {"oneiros.queue": self.name, "oneiros.batch.size": total}

    def _count(self, total: int, waited: float) -> None:
        self.stats.batches += 1
        self.stats.items += total
        self.stats.largest = max(self.stats.largest, total)
        metrics.observe_batch(self.name, total, waited)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        batch, total = [], 0
        while self._queue and (not batch or total + self._queue[0][1] <= self.max_size):
            entry = self._queue.popleft()
            self._queued_size -= entry[1]
            if not entry[2].done():
                batch.append(entry)
                total += entry[1]
        self._depth.set(self._queued_size)
        if not batch:
            return
        self._busy = True
        waited = time.monotonic() - batch[0][3]
        calls = [e[4] for e in batch]
        for call in calls:
            tracing.record("oneiros.queue_wait", call, {"oneiros.queue": self.name})
        items, attributes = [e[0] for e in batch], self._span_attributes(total)

        def run() -> Sequence[Any]:  # one span for the batch, linked to every call it serves
            return tracing.run_for("oneiros.batch", calls, attributes, self.run_batch, items)

        if self._worker is None:
            done: Future = Future()
            try:
                done.set_result(run())
            except Exception as exc:  # handed to every caller of the batch
                done.set_exception(exc)
            self._finish(loop, batch, done, total, waited)
            return
        done = self._worker.submit(run)
        done.add_done_callback(lambda f: loop.call_soon_threadsafe(self._finish, loop, batch, f, total, waited))

    def _finish(self, loop, batch, done: Future, total: int, waited: float) -> None:
        self._busy = False
        error = done.exception()
        results = [None] * len(batch) if error is not None else done.result()
        for (_, _, future, _, _), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
        self._count(total, waited)
        if self._queue:
            if self._worker is None:  # let this tick's arrivals join the next batch
                self._scheduled = True
                loop.call_soon(self._flush, loop)
            else:
                self._flush(loop)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)

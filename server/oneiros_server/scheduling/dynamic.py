"""Dynamic batching: concurrent requests for one model coalesce into one runtime call.

A ``DynamicBatcher`` owns a bounded queue and one worker thread. ``submit`` puts an
item in the queue (or raises ``Overloaded`` at once when it is full) and returns a
``concurrent.futures.Future``. The worker blocks for the first item, then takes
whatever else is queued (up to ``max_size``) and runs at once: requests that
arrive while a batch runs form the next one. ``max_delay_s`` (default 0) is only an
upper bound on waiting for a batch to fill. Cancelling a future removes its item
from the queue at once; ``asyncio.wrap_future`` gives an awaitable whose
cancellation does exactly that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from oneiros_server.errors import Overloaded, ShuttingDown
from oneiros_server.observability import metrics
from oneiros_server.scheduling.control import CallControl

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Pending(Generic[T]):
    item: T
    size: int
    future: Future = field(default_factory=Future)
    enqueued: float = field(default_factory=time.monotonic)


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    largest: int = 0


class DynamicBatcher(Generic[T, R]):
    def __init__(
        self,
        run_batch: Callable[[Sequence[T]], Sequence[R]],
        *,
        name: str,
        max_size: int = 64,
        max_delay_s: float = 0.0,
        max_queue: int = 512,
    ):
        self.run_batch = run_batch
        self.name = name
        self.max_size = max_size
        self.max_delay_s = max_delay_s
        self.max_queue = max_queue
        self.stats = BatchStats()
        self._queue: deque[_Pending[T]] = deque()
        self._queued_size = 0
        self._cv = threading.Condition()
        self._closed = False
        self._depth = metrics.QUEUE_DEPTH.labels(name)
        self._worker = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._worker.start()

    @property
    def depth(self) -> int:
        return self._queued_size

    def submit(self, item: T, size: int = 1) -> Future:
        """Queue ``item``; its future resolves with its result. Cancel the future to drop it."""
        pending = _Pending(item, size)
        with self._cv:
            if self._closed:
                raise ShuttingDown(f"{self.name} is shutting down")
            if self._queued_size + size > self.max_queue and self._queue:
                metrics.QUEUE_REJECTED.labels(self.name).inc()
                raise Overloaded(
                    f"{self.name} queue is full ({self._queued_size}/{self.max_queue} queued)",
                    retry_after_s=max(0.05, 4 * self.max_delay_s),
                )
            self._queue.append(pending)
            self._queued_size += size
            self._depth.set(self._queued_size)
            self._cv.notify()
        pending.future.add_done_callback(lambda f: self._forget(pending) if f.cancelled() else None)
        return pending.future

    def run(self, item: T, size: int = 1, control: CallControl | None = None) -> R:
        """Submit and wait in this thread; the caller's cancellation drops the item at once."""
        future = self.submit(item, size)
        if control is not None:
            control.on_cancel(future.cancel)
            left = control.time_left()
            try:
                return future.result(timeout=None if left is None else max(0.0, left))
            except BaseException:
                future.cancel()
                control.check()
                raise
        return future.result()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            self._queued_size = 0
            self._cv.notify_all()
        for p in pending:
            if p.future.set_running_or_notify_cancel():
                p.future.set_exception(ShuttingDown(f"{self.name} is shutting down"))
        self._worker.join(timeout=5)

    # ---------------------------------------------------------------- worker
    def _forget(self, pending: _Pending[T]) -> None:
        with self._cv:
            try:
                self._queue.remove(pending)
            except ValueError:
                return
            self._queued_size -= pending.size
            self._depth.set(self._queued_size)

    def _take_batch(self) -> list[_Pending[T]]:
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait()
            if not self._queue:
                return []
            if self.max_delay_s > 0:  # an upper bound on waiting to fill, never a fixed wait
                fill_by = self._queue[0].enqueued + self.max_delay_s
                while self._queued_size < self.max_size and not self._closed and self._queue:
                    left = fill_by - time.monotonic()
                    if left <= 0:
                        break
                    self._cv.wait(left)
            batch, total = [], 0
            while self._queue and (not batch or total + self._queue[0].size <= self.max_size):
                pending = self._queue.popleft()
                self._queued_size -= pending.size
                if pending.future.set_running_or_notify_cancel():
                    batch.append(pending)
                    total += pending.size
            self._depth.set(self._queued_size)
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            if not batch:
                if self._closed:
                    return
                continue
            waited = time.monotonic() - batch[0].enqueued
            try:
                results = self.run_batch([p.item for p in batch])
            except BaseException as exc:  # handed to every caller of this batch
                for p in batch:
                    p.future.set_exception(exc)
                continue
            for p, result in zip(batch, results, strict=True):
                p.future.set_result(result)
            size = sum(p.size for p in batch)
            self.stats.batches += 1
            self.stats.items += size
            self.stats.largest = max(self.stats.largest, size)
            metrics.observe_batch(self.name, size, waited)

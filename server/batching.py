"""Dynamic batching: concurrent requests for one model coalesce into one runtime call.

A ``DynamicBatcher`` owns a bounded queue and one worker thread. ``submit`` puts an
item in the queue (or raises ``Overloaded`` at once when it is full) and returns a
future; the worker takes items until their total size reaches ``max_size`` or the
oldest has waited ``max_delay_s``, calls ``run_batch(items)`` once, and resolves
each future with its own result. Items whose caller gave up are dropped unrun.
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

from oneiros_server import metrics
from oneiros_server.control import CallControl
from oneiros_server.errors import Overloaded, ShuttingDown

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


@dataclass
class _Pending(Generic[T, R]):
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
        max_delay_s: float = 0.002,
        max_queue: int = 512,
    ):
        self.run_batch = run_batch
        self.name = name
        self.max_size = max_size
        self.max_delay_s = max_delay_s
        self.max_queue = max_queue
        self.stats = BatchStats()
        self._queue: deque[_Pending[T, R]] = deque()
        self._queued_size = 0
        self._cv = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._worker.start()

    @property
    def depth(self) -> int:
        return self._queued_size

    def submit(self, item: T, size: int = 1) -> Future:
        with self._cv:
            if self._closed:
                raise ShuttingDown(f"{self.name} is shutting down")
            if self._queued_size + size > self.max_queue and self._queue:
                metrics.QUEUE_REJECTED.labels(self.name).inc()
                raise Overloaded(
                    f"{self.name} queue is full ({self._queued_size}/{self.max_queue} queued)",
                    retry_after_s=max(0.05, 4 * self.max_delay_s),
                )
            pending = _Pending(item, size)
            self._queue.append(pending)
            self._queued_size += size
            metrics.QUEUE_DEPTH.labels(self.name).set(self._queued_size)
            self._cv.notify()
        return pending.future

    def run(self, item: T, size: int = 1, control: CallControl | None = None) -> R:
        """Submit and wait, honouring the caller's cancellation and deadline."""
        future = self.submit(item, size)
        while True:
            if control is not None:
                try:
                    control.check()
                except Exception:
                    future.cancel()
                    raise
                left = control.time_left()
                timeout = 0.05 if left is None else max(0.0, min(0.05, left))
            else:
                timeout = None
            try:
                return future.result(timeout=timeout)
            except TimeoutError:
                continue

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._worker.join(timeout=5)

    # ---------------------------------------------------------------- worker
    def _take_batch(self) -> list[_Pending[T, R]]:
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait()
            if not self._queue:
                return []
            fill_by = self._queue[0].enqueued + self.max_delay_s
            while self._queued_size < self.max_size and not self._closed:
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
            metrics.QUEUE_DEPTH.labels(self.name).set(self._queued_size)
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

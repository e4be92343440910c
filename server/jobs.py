"""A bounded pool for long torch work (Dream, Stylize): managed jobs with progress.

``JobPool(workers, max_queue, name)`` runs at most ``workers`` jobs at once and holds
at most ``max_queue`` more; ``submit`` raises ``Overloaded`` at once when the queue is
full. A job runs ``fn(control, emit)`` on a worker thread; ``emit(event)`` hands a
progress event to the caller, who iterates ``job.events()``: the progress events,
then the value ``fn`` returned (its exception is re-raised in the caller instead).

Cancellation and deadlines come from the caller's ``CallControl``: the engine stops
at its next ``control.check()``; a queued job whose caller gave up is dropped
unrun and leaves the queue at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from oneiros_server import metrics
from oneiros_server.control import CallControl
from oneiros_server.errors import OneirosError, Overloaded, ShuttingDown

log = logging.getLogger(__name__)

Emit = Callable[[Any], None]
JobFn = Callable[[CallControl, Emit], Any]

_POLL_S = 0.05


class _Done:
    __slots__ = ("value", "error")

    def __init__(self, value: Any = None, error: BaseException | None = None):
        self.value = value
        self.error = error


@dataclass
class JobStats:
    submitted: int = 0
    rejected: int = 0
    completed: int = 0
    failed: int = 0
    dropped: int = 0  # queued, then abandoned by the caller before it ran


class Job:
    """One submitted piece of work; iterate ``events()`` in the calling thread."""

    def __init__(self, fn: JobFn, control: CallControl, pool: JobPool):
        self.fn = fn
        self.control = control
        self._pool = pool
        self._events: queue.Queue = queue.Queue()
        self.state = "queued"  # queued -> running -> done | dropped
        self.enqueued = time.monotonic()

    def emit(self, event: Any) -> None:
        self._events.put(event)

    def events(self) -> Iterator[Any]:
        """Progress events, then the result; raises the job's error (or Cancelled...)."""
        while True:
            try:
                item = self._events.get(timeout=_POLL_S)
            except queue.Empty:
                try:
                    self.control.check()
                except OneirosError:
                    self._pool._abandon(self)
                    raise
                continue
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                yield item.value
                return
            yield item

    def result(self) -> Any:
        """Drain the progress events and return the result."""
        value = None
        for value in self.events():  # noqa: B007 - the last event is the result
            pass
        return value


class JobPool:
    def __init__(self, workers: int, max_queue: int, name: str):
        self.name = name
        self.max_queue = max_queue
        self.stats = JobStats()
        self._queue: deque[Job] = deque()
        self._active = 0
        self._running: set[Job] = set()
        self._cv = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"jobs-{name}-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def active(self) -> int:
        """Jobs running now."""
        return self._active

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._queue)

    def submit(self, fn: JobFn, control: CallControl | None = None) -> Job:
        """Queue ``fn(control, emit)``; raises Overloaded at once when the queue is full."""
        job = Job(fn, control or CallControl(), self)
        with self._cv:
            if self._closed:
                raise ShuttingDown(f"{self.name} is shutting down")
            idle = len(self._threads) - self._active
            if len(self._queue) >= self.max_queue + idle:
                self.stats.rejected += 1
                metrics.QUEUE_REJECTED.labels(self.name).inc()
                raise Overloaded(
                    f"{self.name} is busy: {self._active} running, {len(self._queue)} queued "
                    f"(limit {self.max_queue}); retry later",
                    retry_after_s=1.0,
                )
            self._queue.append(job)
            self.stats.submitted += 1
            self._publish()
            self._cv.notify()
        return job

    def close(self, timeout: float = 5.0) -> None:
        """Refuse new work, stop queued jobs with ShuttingDown, cancel running ones."""
        with self._cv:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            for job in self._running:
                job.control.cancel(shutting_down=True)
            self._cv.notify_all()
        for job in pending:
            job.state = "dropped"
            job.emit(_Done(error=ShuttingDown(f"{self.name} is shutting down")))
        for thread in self._threads:
            thread.join(timeout)

    # ---------------------------------------------------------------- internals
    def _abandon(self, job: Job) -> None:
        with self._cv:
            if job.state == "queued":
                try:
                    self._queue.remove(job)
                except ValueError:
                    pass
                job.state = "dropped"
                self.stats.dropped += 1
                self._publish()

    def _publish(self) -> None:
        metrics.QUEUE_DEPTH.labels(self.name).set(len(self._queue))
        metrics.JOBS_ACTIVE.labels(self.name).set(self._active)

    def _take(self) -> Job | None:
        with self._cv:
            while True:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return None
                job = self._queue.popleft()
                left = job.control.time_left()
                if job.control.cancelled or (left is not None and left <= 0):
                    job.state = "dropped"
                    self.stats.dropped += 1
                    continue
                job.state = "running"
                self._active += 1
                self._running.add(job)
                self._publish()
                metrics.QUEUE_WAIT.labels(self.name).observe(time.monotonic() - job.enqueued)
                return job

    def _loop(self) -> None:
        while (job := self._take()) is not None:
            try:
                value = job.fn(job.control, job.emit)
            except BaseException as exc:  # handed to the caller, who maps it
                done = _Done(error=exc)
                if not isinstance(exc, OneirosError):
                    log.exception("job in %s failed", self.name)
            else:
                done = _Done(value=value)
            with self._cv:
                self._active -= 1
                self._running.discard(job)
                job.state = "done"
                if done.error is None:
                    self.stats.completed += 1
                else:
                    self.stats.failed += 1
                self._publish()
            job.emit(done)

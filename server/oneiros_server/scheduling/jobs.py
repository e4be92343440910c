"""A bounded pool for long torch work (Dream, Stylize): managed jobs with progress.

``JobPool(workers, max_queue, name)`` runs at most ``workers`` jobs at once and holds
at most ``max_queue`` more; ``submit`` raises ``Overloaded`` at once when the queue is
full. A job runs ``fn(control, emit)`` on a worker thread; ``emit(event)`` hands a
progress event (counted in ``JOB_STEPS`` when it has ``steps_done``) to the reader through
a one-slot buffer (``oneiros_server.scheduling.handoff``): while the reader lags, progress events merge into the newest one, which keeps the
newest preview, so a stalled reader costs one event, never a queue of previews.
The reader (a coroutine) iterates ``job.aevents()``: the progress events, then the
value ``fn`` returned (its exception is raised instead).

Cancellation and deadlines come from the caller's ``CallControl``: cancelling it
drops a queued job at once (its slot is free) and a running one stops at its next
``control.check()``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from oneiros_server.errors import Cancelled, OneirosError, Overloaded, ShuttingDown
from oneiros_server.observability import metrics, tracing
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.handoff import Closed, OneSlot

log = logging.getLogger(__name__)

Emit = Callable[[Any], None]
JobFn = Callable[[CallControl, Emit], Any]


def merge_progress(pending: Any, event: Any) -> Any:
    """The newest event wins; it keeps the newest preview if it has none of its own."""
    if pending is None or not dataclasses.is_dataclass(event):
        return event
    if getattr(event, "preview", None) is None and getattr(pending, "preview", None) is not None:
        return dataclasses.replace(event, preview=pending.preview)  # type: ignore[type-var]
    return event


@dataclass
class JobStats:
    submitted: int = 0
    rejected: int = 0
    completed: int = 0
    failed: int = 0
    dropped: int = 0  # queued, then abandoned by the caller before it ran


class Job:
    """One submitted piece of work; read ``aevents()``."""

    def __init__(self, fn: JobFn, control: CallControl, pool: JobPool):
        self.fn = fn
        self.control = control
        self._pool = pool
        self.output: OneSlot = OneSlot(merge_progress)
        self.value: Any = None
        self.state = "queued"  # queued -> running -> done | dropped
        self.enqueued = time.monotonic()
        self._steps = metrics.JOB_STEPS.labels(control.rpc)
        self._steps_done = 0
        self.trace = tracing.capture()  # the call's trace; its job and step spans are children
        self._step_began: tracing.Captured | None = None

    def run(self) -> Any:
        """``fn`` on this (a pool's) thread; each step it reports becomes a span of the call's trace."""
        self._step_began = tracing.capture()
        return self.fn(self.control, self.emit)

    def emit(self, event: Any) -> None:
        step = getattr(event, "steps_done", None)  # progress: count the steps done since the last one
        if step is not None and step > self._steps_done:
            self._steps.inc(step - self._steps_done)
            self._steps_done = step
            tracing.record("oneiros.step", self._step_began, {"oneiros.step": step})
            self._step_began = tracing.capture()
        self.output.put(event)

    async def aevents(self) -> AsyncIterator[Any]:
        """Progress events, then the result; raises the job's error (or Cancelled, DeadlineExceeded...)."""
        while True:
            try:
                event = await self.output.get()
            except Closed:
                yield self.value
                return
            yield event


class JobPool:
    """``workers`` threads running long jobs (Dream, Stylize) from a queue of at most ``max_queue``;
    ``submit`` refuses with ``Overloaded`` at once when it is full."""

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
            refusal = self._refusal()
            if refusal is not None:
                self.stats.rejected += 1
                metrics.QUEUE_REJECTED.labels(self.name).inc()
                raise refusal
            self._queue.append(job)
            self.stats.submitted += 1
            self._publish()
            self._cv.notify()
        job.control.on_cancel(lambda: self._abandon(job))
        return job

    def check_room(self) -> None:
        """Overloaded now if ``submit`` would refuse (to refuse before costly preparation)."""
        refusal = self._refusal()
        if refusal is not None:
            raise refusal

    def _refusal(self) -> Overloaded | None:
        idle = len(self._threads) - self._active
        if len(self._queue) < self.max_queue + idle:
            return None
        return Overloaded(
            f"{self.name} is busy: {self._active} running, {len(self._queue)} queued "
            f"(limit {self.max_queue}); retry later",
            retry_after_s=1.0,
        )

    def close(self, timeout: float = 5.0) -> None:
        """Refuse new work, stop queued jobs with ShuttingDown, cancel running ones."""
        with self._cv:
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            running = list(self._running)
            self._cv.notify_all()
        for job in running:
            job.control.cancel(shutting_down=True)
        for job in pending:
            job.state = "dropped"
            job.output.close(ShuttingDown(f"{self.name} is shutting down"))
        for thread in self._threads:
            thread.join(timeout)

    # ---------------------------------------------------------------- internals
    def _abandon(self, job: Job) -> None:
        """The caller gave up: a queued job leaves the queue now (a running one stops at its next step)."""
        with self._cv:
            if job.state != "queued":
                return
            try:
                self._queue.remove(job)
            except ValueError:
                pass
            job.state = "dropped"
            self.stats.dropped += 1
            self._publish()
        job.output.close(job.control.error() or Cancelled("the call was cancelled"))

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
                error = job.control.error()
                if error is not None:
                    job.state = "dropped"
                    self.stats.dropped += 1
                    job.output.close(error)
                    continue
                job.state = "running"
                self._active += 1
                self._running.add(job)
                self._publish()
                metrics.QUEUE_WAIT.labels(self.name).observe(time.monotonic() - job.enqueued)
                tracing.record("oneiros.queue_wait", job.trace, {"oneiros.queue": self.name})
                return job

    def _loop(self) -> None:
        while (job := self._take()) is not None:
            error: BaseException | None = None
            try:
                job.value = tracing.run_for("oneiros.job", [job.trace], {"oneiros.pool": self.name}, job.run)
            except BaseException as exc:  # handed to the caller, who maps it
                error = exc
                if not isinstance(exc, OneirosError):
                    log.exception("job in %s failed", self.name)
            with self._cv:
                self._active -= 1
                self._running.discard(job)
                job.state = "done"
                if error is None:
                    self.stats.completed += 1
                else:
                    self.stats.failed += 1
                self._publish()
            job.output.close(error)

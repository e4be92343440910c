"""The job pool for long torch work: admission, progress, cancellation, deadlines."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import numpy as np
import pytest

from oneiros_server.engines.base import last_event
from oneiros_server.errors import Cancelled, DeadlineExceeded, Overloaded, ShuttingDown
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.jobs import JobPool
from tests.waiting import wait_until


def _stepper(steps: int, started: threading.Event | None = None, ran: list | None = None, delay: float = 0.02):
    """A fake engine: ``steps`` steps with a check and a progress event each."""

    def fn(control, emit):
        if ran is not None:
            ran.append(True)
        if started is not None:
            started.set()
        for step in range(steps):
            control.check()
            time.sleep(delay)
            emit(step)
        return "done"

    return fn


def _events(job) -> list:
    """Every event of ``job`` (progress, then the result), read by a coroutine as the dataplane reads."""

    async def read():
        return [event async for event in job.aevents()]

    return asyncio.run(read())


def _result(job):
    return asyncio.run(last_event(job.aevents()))


@pytest.fixture
def pool():
    pools = []

    def make(workers=1, max_queue=1):
        p = JobPool(workers, max_queue, name="test")
        pools.append(p)
        return p

    yield make
    for p in pools:
        p.close()


def test_events_are_progress_then_result(pool):
    def three_steps(control, emit):
        for i in range(3):
            emit(i)
        return "result"

    job = pool().submit(three_steps)
    events = _events(job)
    # A reader that lags gets the newest progress (merged), then the result.
    assert events[-2:] == [2, "result"] and events[:-1] == sorted(set(events[:-1]))


def test_a_reader_that_keeps_up_gets_every_event(pool):
    taken = threading.Semaphore(0)

    def three_steps(control, emit):
        for i in range(3):
            emit(i)
            taken.acquire(timeout=5)  # the reader took it
        return "result"

    job = pool().submit(three_steps)

    async def read():
        events = []
        async for event in job.aevents():
            events.append(event)
            taken.release()
        return events

    assert asyncio.run(read()) == [0, 1, 2, "result"]


def test_errors_are_reraised_in_the_caller(pool):
    def boom(control, emit):
        emit("before")
        raise ValueError("broken")

    job = pool().submit(boom, CallControl())
    with pytest.raises(ValueError):
        _result(job)


def test_full_queue_is_refused_at_once(pool):
    p = pool(workers=1, max_queue=1)
    started = threading.Event()
    running = p.submit(_stepper(1000, started), CallControl())
    started.wait(5)
    queued = p.submit(_stepper(1), CallControl())
    t0 = time.monotonic()
    with pytest.raises(Overloaded):
        p.submit(_stepper(1), CallControl())
    assert time.monotonic() - t0 < 0.5
    assert (p.active, p.queued) == (1, 1)
    running.control.cancel()
    assert _result(queued) == "done"
    assert p.stats.rejected == 1


def test_cancel_stops_within_a_step_and_frees_the_slot(pool):
    p = pool(workers=1, max_queue=0)
    started = threading.Event()
    control = CallControl()
    steps: list[int] = []
    job = p.submit(_stepper(10_000, started, delay=0.05), control)
    started.wait(5)

    async def read_then_cancel():
        events = job.aevents()
        steps.append(await anext(events))
        control.cancel()
        async for step in events:
            steps.append(step)

    with pytest.raises(Cancelled):
        asyncio.run(read_then_cancel())
    assert len(steps) <= 3  # the step in flight may still report
    assert wait_until(lambda: p.active == 0)
    assert _result(p.submit(_stepper(2), CallControl())) == "done"


def test_queued_job_cancelled_by_its_caller_never_runs(pool):
    p = pool(workers=1, max_queue=1)
    started = threading.Event()
    blocker = p.submit(_stepper(10_000, started), CallControl())
    started.wait(5)
    ran: list = []
    control = CallControl()
    queued = p.submit(_stepper(1, ran=ran), control)
    control.cancel()
    with pytest.raises(Cancelled):
        _result(queued)
    assert p.queued == 0  # left the queue at once, making room
    p.submit(_stepper(1), CallControl())
    blocker.control.cancel()
    assert wait_until(lambda: p.active == 0 and p.queued == 0)
    assert ran == [] and p.stats.dropped == 1


def test_deadline_stops_running_job(pool):
    job = pool().submit(_stepper(10_000), CallControl.with_timeout(0.2))
    with pytest.raises(DeadlineExceeded):
        _result(job)


def test_close_refuses_new_work_and_stops_queued(pool):
    p = pool(workers=1, max_queue=2)
    started = threading.Event()
    running = p.submit(_stepper(10_000, started), CallControl())
    started.wait(5)
    queued = p.submit(_stepper(1), CallControl())
    p.close()
    with pytest.raises(ShuttingDown):
        p.submit(_stepper(1), CallControl())
    for job in (running, queued):
        with pytest.raises(ShuttingDown):
            _result(job)
    assert p.active == 0


def test_a_stalled_reader_holds_one_merged_event_with_the_newest_preview(pool):
    @dataclasses.dataclass
    class Progress:
        step: int
        preview: np.ndarray | None = None

    made = []

    def steps(control, emit):
        for step in range(1, 201):
            preview = np.full((256, 256, 3), step, np.float32) if step % 10 == 0 else None  # 768 KB each
            if preview is not None:
                made.append(preview)
            emit(Progress(step, preview))
        return "result"

    job = pool().submit(steps)
    assert wait_until(lambda: job.state == "done")  # nobody read while 200 events and 20 previews were made
    events = _events(job)
    assert events[-1] == "result" and len(events) == 2  # the buffer held one event, never a queue
    merged = events[0]
    assert merged.step == 200 and merged.preview is made[-1]  # the newest preview, kept across merges

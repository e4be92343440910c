"""The dataplane with a fake engine (no ONNX, no torch): admission, validation once, unary and
streams, deadlines, cancellation and the bounded hand-off of events."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oneiros_server.dataplane import Dataplane, ServerState
from oneiros_server.engines.base import EngineInfo
from oneiros_server.engines.registry import Registry
from oneiros_server.errors import DeadlineExceeded, FieldError, ModelUnavailable, Overloaded, ShuttingDown
from oneiros_server.observability import metrics
from oneiros_server.repository import ModelRepository
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.jobs import JobPool
from oneiros_server.settings import Settings
from tests.waiting import wait_until

FAMILY = "Count"


@dataclass
class Step:
    step: int

    @property
    def steps_done(self) -> int:
        return self.step


class Counter:
    """A fake engine: params = n; a job emits ``Step(1..n)`` and returns "done".

    With ``hold`` set, the job emits every step, sets ``emitted`` and waits for ``release`` (or
    its call's cancellation) before it returns.
    """

    def __init__(self, manifest, version_dir: Path, settings: Settings):
        self.info = EngineInfo()
        self.engines = {FAMILY: self}
        self.jobs = JobPool(workers=1, max_queue=0, name="counter")
        self.validated = 0
        self.hold = False
        self.emitted = threading.Event()
        self.release = threading.Event()

    def validate(self, n: int) -> int:
        self.validated += 1
        if n < 1:
            raise FieldError("n", "must be at least 1")
        return n

    def submit(self, n: int, control: CallControl) -> AsyncIterator[object]:
        return self.jobs.submit(lambda c, emit: self._count(n, c, emit), control).aevents()

    def _count(self, n: int, control: CallControl, emit) -> str:
        for i in range(1, n + 1):
            control.check()
            emit(Step(i))
        if self.hold:
            self.emitted.set()
            control.on_cancel(self.release.set)
            self.release.wait(20)
            control.check()
        return "done"

    def warmup(self) -> None:
        pass

    def close(self) -> None:
        self.release.set()
        self.jobs.close()


@pytest.fixture
def plane(tmp_path):
    version = tmp_path / "counter" / "1"
    version.mkdir(parents=True)
    manifest = {"name": "counter", "version": "1", "kind": "COUNTER", "runtime": "python"}
    (version / "model.json").write_text(json.dumps(manifest))
    registry = Registry()
    registry.register("COUNTER", Counter, families=(FAMILY,))
    settings = Settings(model_repository=tmp_path, metrics_port=-1, max_concurrent_rpcs=2)
    repository = ModelRepository(settings, registry)
    repository.load_all()
    state = ServerState(repository)
    state.loaded.set()
    outcomes: list[str] = []
    state.observers.append(lambda rpc, model, code, seconds, transport, version: outcomes.append(code))
    plane = Dataplane(state)
    plane.outcomes = outcomes  # type: ignore[attr-defined]
    yield plane
    repository.close()


def _engine(plane: Dataplane) -> Counter:
    return plane.repository.find("counter").engine_set


def _unary(plane: Dataplane, n: int, rpc: str = FAMILY, timeout: float | None = None):
    call = plane.open(rpc, "counter", "rid", timeout)
    return plane.unary(call, lambda c: plane.result(c, plane.engine(c, FAMILY), n))


async def _stream(plane: Dataplane, n: int) -> AsyncIterator[object]:
    call = plane.open("CountStream", "counter", "rid", None)
    return plane.stream(call, lambda c: plane.run(c, plane.engine(c, FAMILY), n))


def test_unary_takes_the_last_event_and_validates_once(plane):
    assert asyncio.run(_unary(plane, 3, rpc="CountOnce")) == "done"
    assert _engine(plane).validated == 1 and plane.outcomes == ["OK"]
    steps = metrics.REGISTRY.get_sample_value("oneiros_job_steps_total", {"rpc": "CountOnce"})
    assert steps == 3  # the engine metered its steps under the call's RPC


def test_a_stream_forwards_the_events_then_the_result(plane):
    async def read():
        return [event async for event in await _stream(plane, 3)]

    events = asyncio.run(read())  # steps emitted while the reader was away arrive merged
    steps = [e.step for e in events[:-1]]
    assert events[-2:] == [Step(3), "done"] and steps == sorted(set(steps))


def test_invalid_request_is_refused_before_any_work(plane):
    with pytest.raises(FieldError) as err:
        asyncio.run(_unary(plane, 0))
    assert err.value.field == "n" and _engine(plane).jobs.stats.submitted == 0
    assert plane.outcomes == ["INVALID_ARGUMENT"]


def test_admission_refuses_at_once(plane):
    plane.state.loaded.clear()
    with pytest.raises(ModelUnavailable):
        plane.open(FAMILY, "counter", "rid", None)
    plane.state.loaded.set()
    calls = [plane.open(FAMILY, "counter", "rid", None) for _ in range(2)]
    with pytest.raises(Overloaded):  # max_concurrent_rpcs = 2
        plane.open(FAMILY, "counter", "rid", None)
    for call in calls:
        plane.lifecycle.close(call, None)
    plane.state.draining.set()
    with pytest.raises(ShuttingDown):
        plane.open(FAMILY, "counter", "rid", None)
    assert plane.outcomes.count("RESOURCE_EXHAUSTED") == 1


def test_a_full_engine_queue_answers_overloaded_at_once(plane):
    engine = _engine(plane)
    engine.hold = True

    async def two():
        first = asyncio.ensure_future(_unary(plane, 1))
        await asyncio.get_running_loop().run_in_executor(None, engine.emitted.wait, 20)
        with pytest.raises(Overloaded):
            await _unary(plane, 1)  # one worker, no queue
        engine.release.set()
        return await first

    assert asyncio.run(two()) == "done"


def test_a_passed_deadline_stops_the_work(plane):
    with pytest.raises(DeadlineExceeded):
        asyncio.run(_unary(plane, 5, timeout=-1.0))
    assert plane.outcomes == ["DEADLINE_EXCEEDED"]


def test_closing_a_stream_cancels_its_running_work(plane):
    engine = _engine(plane)
    engine.hold = True

    async def read_one_and_leave():
        events = await _stream(plane, 2)
        first = await anext(events)  # the stream starts (and submits) when it is first read
        await asyncio.get_running_loop().run_in_executor(None, engine.emitted.wait, 20)
        await events.aclose()
        return first

    assert isinstance(asyncio.run(read_one_and_leave()), Step)
    assert wait_until(lambda: engine.jobs.stats.failed == 1)  # stopped with Cancelled, not finished
    assert plane.outcomes == ["CANCELLED"]


def test_cancelling_a_unary_call_cancels_its_work(plane):
    engine = _engine(plane)
    engine.hold = True

    async def cancel_midway():
        task = asyncio.ensure_future(_unary(plane, 1))
        await asyncio.get_running_loop().run_in_executor(None, engine.emitted.wait, 20)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert wait_until(lambda: engine.jobs.stats.failed == 1)
    assert plane.outcomes == ["CANCELLED"]


def test_a_lagging_reader_gets_merged_events_not_a_queue(plane):
    engine = _engine(plane)
    engine.hold = True

    async def lag():
        call = plane.open("CountStream", "counter", "rid", None)
        events = plane.run(call, plane.engine(call, FAMILY), 100)  # submitted now, read later
        await asyncio.get_running_loop().run_in_executor(None, engine.emitted.wait, 20)
        first = await anext(events)  # 100 steps were emitted before anyone read: one event holds them
        engine.release.set()
        return [first] + [event async for event in events]

    assert asyncio.run(lag()) == [Step(100), "done"]

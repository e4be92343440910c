"""The child spans of a call: validation, queue wait, its batch or job steps, the runtime, encoding."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.base import last_event
from oneiros_server.observability import tracing
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.jobs import JobPool
from oneiros_server.scheduling.loop import LoopBatcher
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

PROVIDER = TracerProvider()
EXPORTER = InMemorySpanExporter()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
TRACER = PROVIDER.get_tracer("tests")  # the callers' side


@pytest.fixture
def spans():
    EXPORTER.clear()
    tracing.use(PROVIDER)
    yield EXPORTER
    tracing.use(None)


def _by_name(exporter: InMemorySpanExporter) -> dict[str, list]:
    found: dict[str, list] = {}
    for span in exporter.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def test_a_sample_call_shows_validation_queue_generation_and_encoding(serve, spans):
    running = serve(tiny_lm_repository())
    running.stub.Sample(pb.SampleRequest(prompt="And", max_tokens=8, seed=1), timeout=30)
    assert wait_until(lambda: any(s.kind == SpanKind.SERVER for s in spans.get_finished_spans()), 10)
    found = _by_name(spans)
    (server,) = found["/oneiros.v1.Oneiros/Sample"]
    assert server.attributes["oneiros.model"] == "tiny-lm"
    assert server.attributes["oneiros.model_version"] == "1"
    assert server.attributes["oneiros.model_kind"] == "LANGUAGE_MODEL"
    for name in ("oneiros.validate", "oneiros.queue_wait", "oneiros.generate", "oneiros.encode"):
        (child,) = found[name]
        assert child.context.trace_id == server.context.trace_id, name
        assert child.parent.span_id == server.context.span_id, name
        assert server.start_time <= child.start_time <= child.end_time <= server.end_time, name


def test_a_batch_that_serves_several_calls_is_linked_to_each(spans):
    def run_batch(items):
        with tracing.span("onnxruntime.run"):
            return [x * 2 for x in items]

    batcher = LoopBatcher(run_batch, name="decoder", max_size=8, max_queue=8)

    async def call(x: int):
        with TRACER.start_as_current_span(f"call {x}") as span:
            return await batcher.run(x), span.get_span_context()

    async def main():
        return await asyncio.gather(*(call(x) for x in range(3)))

    results = asyncio.run(main())
    assert [r for r, _ in results] == [0, 2, 4]
    calls = [c for _, c in results]
    found = _by_name(spans)
    lone, shared = sorted(found["oneiros.batch"], key=lambda s: s.attributes["oneiros.batch.size"])
    # The first call ran at once: its batch is its child. The two that queued meanwhile ran as one
    # batch, in a trace of its own, linked to both; each call has its queue wait as a child.
    assert lone.parent.span_id == calls[0].span_id and not lone.links
    assert shared.parent is None and shared.attributes["oneiros.batch.size"] == 2
    assert {link.context.span_id for link in shared.links} == {calls[1].span_id, calls[2].span_id}
    assert {w.parent.span_id for w in found["oneiros.queue_wait"]} == {calls[1].span_id, calls[2].span_id}
    runtime_parents = {r.parent.span_id for r in found["onnxruntime.run"]}
    assert runtime_parents == {lone.context.span_id, shared.context.span_id}


@dataclasses.dataclass
class _Progress:
    steps_done: int


def test_a_job_has_its_queue_wait_and_each_step(spans):
    pool = JobPool(1, 4, name="vgg19")

    def three_steps(control, emit):
        for step in range(1, 4):
            emit(_Progress(step))
        return "done"

    try:
        with TRACER.start_as_current_span("call") as call:
            job = pool.submit(three_steps, CallControl())
        assert asyncio.run(last_event(job.aevents())) == "done"
    finally:
        pool.close()
    found = _by_name(spans)
    (job_span,) = found["oneiros.job"]
    (wait,) = found["oneiros.queue_wait"]
    assert job_span.parent.span_id == wait.parent.span_id == call.get_span_context().span_id
    steps = sorted(found["oneiros.step"], key=lambda s: s.attributes["oneiros.step"])
    assert [s.attributes["oneiros.step"] for s in steps] == [1, 2, 3]
    assert all(s.parent.span_id == job_span.context.span_id for s in steps)

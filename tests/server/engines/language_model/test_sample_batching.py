"""The sampler's continuous batch: seeded text identical alone and batched, chunked prefill,
and the one-slot output that merges while the reader lags."""

from __future__ import annotations

import threading

import pytest

from oneiros_server.engines.language_model.engine import SampleRequest
from oneiros_server.scheduling.control import CallControl
from tests.server.engines.language_model.sample_helpers import make_engine, same_completions, sample, stream
from tests.waiting import wait_until

PROMPT = "And God said, Let there be light: and there was light. And God saw the light, that it was good."


@pytest.fixture(scope="module")
def chunked(lm):
    engine = make_engine(lm, sample_prefill_chunk=7)  # every prompt here takes several prefill steps
    yield engine
    engine.close()


def test_batched_and_single_seeded_output_are_identical(chunked):
    alone = make_engine(chunked.name, batching=False)  # one request at a time, prompt prefilled in one chunk
    requests = [
        SampleRequest(prompt=PROMPT[: 10 + 9 * i], max_tokens=60, temperature=t, top_k=k, top_p=p, seed=s, n=n)
        for i, (t, k, p, s, n) in enumerate(
            [(1.0, 0, 1.0, 1, 1), (0.7, 5, 1.0, 2, 3), (1.2, 0, 0.9, 3, 2), (0.0, 0, 1.0, 4, 1), (1.0, 3, 0.8, 5, 2)]
        )
    ]
    try:
        single = [sample(alone, r, CallControl()) for r in requests]
    finally:
        alone.close()
    batched: list = [None] * len(requests)

    def run(i):
        batched[i] = sample(chunked, requests[i], CallControl())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(same_completions(b, s) for b, s in zip(batched, single, strict=True))
    assert chunked.batcher.stats.largest > 1


def test_a_lagging_reader_gets_merged_chunks_that_concatenate_to_the_unary_text(chunked):
    request = SampleRequest(prompt="And", max_tokens=120, temperature=1.0, seed=9, n=2)
    unary = sample(chunked, request, CallControl())
    chunks = stream(chunked, request, CallControl())
    first = next(chunks)  # the first chunk never waits
    assert wait_until(lambda: chunked.active == 0)  # everything else was made while nobody read
    rest = list(chunks)
    # One merged, final chunk per completion (plus the other completion's first piece, taken with ``first``).
    assert [c.index for c in rest if c.finish_reason == "LENGTH"] == [0, 1]
    assert len([c for c in rest if c.finish_reason is None]) <= 1
    for c in unary:
        assert "".join(k.text for k in [first, *rest] if k.index == c.index) == c.text
        assert [k for k in rest if k.index == c.index][-1].token_count == c.token_count == 120


def test_cancel_while_queued_frees_the_slot_and_skips_the_prefill(lm):
    engine = make_engine(lm, batch_max_size=1, batch_queue_size=1)
    try:
        running_control = CallControl()
        running = stream(engine, SampleRequest(prompt="And", max_tokens=2000, temperature=1.0), running_control)
        next(running)
        before = engine.batcher.prefilled
        queued_control = CallControl()
        stream(engine, SampleRequest(prompt=PROMPT, max_tokens=5), queued_control)
        assert engine.batcher.depth == 1
        queued_control.cancel()
        assert engine.batcher.depth == 0  # at once: no step had to run
        later = stream(engine, SampleRequest(prompt="God", max_tokens=5, seed=1), CallControl())  # admitted
        running_control.cancel()
        assert "".join(c.text for c in later) and engine.batcher.prefilled - before == len("\nGod")
    finally:
        engine.close()

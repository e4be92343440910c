"""The sampler engine without a server: seeds, stops, streams, validation, continuous batching."""

from __future__ import annotations

import threading
import time

import pytest

from oneiros_server.engines.language_model.engine import SampleRequest
from oneiros_server.errors import Cancelled, FieldError, Overloaded
from oneiros_server.scheduling.control import CallControl
from tests.server.engines.language_model.sample_helpers import make_engine, same_completions, sample, stream


@pytest.fixture(scope="module")
def engine(lm):
    e = make_engine(lm)
    yield e
    e.close()


def test_seeded_requests_repeat_and_seeds_differ(engine):
    request = SampleRequest(prompt="And God", max_tokens=40, temperature=1.0, seed=11, n=3)
    first = sample(engine, request, CallControl())
    assert first == sample(engine, request, CallControl())
    assert len({c.text for c in first}) > 1  # n completions are independent
    other = sample(engine, SampleRequest(prompt="And God", max_tokens=40, temperature=1.0, seed=12, n=3), CallControl())
    assert [c.text for c in other] != [c.text for c in first]
    assert all(c.finish_reason == "LENGTH" and c.token_count == 40 == len(c.text) for c in first)


def test_stream_concatenation_equals_sample(engine):
    request = SampleRequest(prompt="In the", max_tokens=60, temperature=0.8, seed=5, n=2, stop=("light",))
    unary = sample(engine, request, CallControl())
    chunks = list(stream(engine, request, CallControl()))
    for c in unary:
        mine = [k for k in chunks if k.index == c.index]
        assert "".join(k.text for k in mine) == c.text
        assert [k.finish_reason for k in mine][-1] == c.finish_reason
        assert all(k.finish_reason is None for k in mine[:-1])
        assert mine[-1].token_count == c.token_count


def test_stop_sequences_end_the_text_and_are_not_returned(engine):
    greedy = sample(engine, SampleRequest(prompt="And God", max_tokens=60, temperature=0), CallControl())[0]
    stop = greedy.text[10:13]
    cut = sample(engine, SampleRequest(prompt="And God", max_tokens=60, temperature=0, stop=(stop,)), CallControl())[0]
    assert cut.finish_reason == "STOP"
    assert cut.text == greedy.text[: greedy.text.index(stop)]
    assert cut.token_count == len(cut.text) + len(stop)


def test_greedy_entropy_is_zero_and_rises_with_temperature(engine):
    entropies = []
    for t in (0, 0.2, 0.5, 1.0, 1.2):
        c = sample(engine, SampleRequest(prompt="And", max_tokens=200, temperature=t, seed=1), CallControl())[0]
        entropies.append(c.mean_entropy_bits)
    assert entropies[0] == 0.0
    assert entropies == sorted(entropies) and entropies[-1] > entropies[1] + 0.5


def test_batching_off_gives_the_same_text(engine):
    alone = make_engine(engine.name, batching=False)
    request = SampleRequest(prompt="And the", max_tokens=50, temperature=1.0, seed=3, n=2, top_k=5, top_p=0.9)
    try:
        assert same_completions(sample(alone, request, CallControl()), sample(engine, request, CallControl()))
    finally:
        alone.close()


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(prompt="caf\u00e9 #1"), "prompt"),
        (dict(temperature=-0.1), "temperature"),
        (dict(temperature=float("nan")), "temperature"),
        (dict(top_p=0.0), "top_p"),
        (dict(top_p=1.5), "top_p"),
        (dict(top_k=-1), "top_k"),
        (dict(max_tokens=10**6), "max_tokens"),
        (dict(n=10**3), "n"),
        (dict(stop=("ok", "")), "stop[1]"),
    ],
)
def test_out_of_range_fields_are_named(engine, fields, field):
    with pytest.raises(FieldError) as info:
        sample(engine, SampleRequest(**fields), CallControl())
    assert info.value.field == field


def test_unknown_prompt_characters_are_listed(engine):
    with pytest.raises(FieldError) as info:
        engine.validate(SampleRequest(prompt="caf\u00e9 #1"))
    assert "'\u00e9'" in info.value.message and "'#'" in info.value.message and "'1'" in info.value.message


def test_concurrent_generations_share_steps_and_keep_their_text(engine):
    requests = [SampleRequest(prompt="And", max_tokens=80, temperature=1.0, seed=s) for s in range(8)]
    alone = [sample(engine, r, CallControl())[0].text for r in requests]
    before = engine.batcher.stats.largest
    results = [None] * len(requests)

    def run(i):
        results[i] = sample(engine, requests[i], CallControl())[0].text

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == alone  # same seed, same text, whatever else shared the batch
    assert engine.batcher.stats.largest > max(1, before)


def test_cancelling_frees_the_slot(engine):
    control = CallControl()
    chunks = stream(engine, SampleRequest(prompt="And", max_tokens=2000, temperature=1.0), control)
    next(chunks)
    assert engine.active == 1
    control.cancel()
    with pytest.raises(Cancelled):
        for _ in chunks:
            pass
    deadline = time.monotonic() + 5
    while engine.active and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.active == 0


def test_full_queue_is_overloaded(lm):
    small = make_engine(lm, batch_max_size=1, batch_queue_size=1)
    try:
        control = CallControl()
        running = stream(small, SampleRequest(max_tokens=2000, temperature=1.0), control)
        next(running)  # holds the only active slot
        stream(small, SampleRequest(max_tokens=5), CallControl())  # waits in the queue
        with pytest.raises(Overloaded):
            stream(small, SampleRequest(max_tokens=5), CallControl())
        control.cancel()
    finally:
        small.close()


def test_short_request_joins_and_leaves_while_a_long_one_runs(engine):
    control = CallControl()
    long = stream(engine, SampleRequest(prompt="And", max_tokens=2000, temperature=1.0), control)
    next(long)
    steps_before = engine.batcher.stats.batches
    short = sample(engine, SampleRequest(prompt="God", max_tokens=5, seed=1), CallControl())[0]
    assert short.token_count == 5 and short.finish_reason == "LENGTH"
    assert engine.active == 1  # the long one is still running: nobody waited for anybody
    assert engine.batcher.stats.batches - steps_before < 1000
    control.cancel()
    with pytest.raises(Cancelled):
        list(long)


def test_shutdown_ends_running_generations_as_cancelled(lm):
    closing = make_engine(lm)
    chunks = stream(closing, SampleRequest(prompt="And", max_tokens=2000, temperature=1.0), CallControl())
    next(chunks)
    closing.close()
    rest = list(chunks)
    assert rest[-1].finish_reason == "CANCELLED" and 0 < rest[-1].token_count < 2000


@pytest.mark.parametrize("batching", [True, False])
def test_flush_window_sends_fewer_chunks_with_the_same_text(engine, batching):
    grouped = make_engine(engine.name, sample_stream_flush_ms=50, batching=batching)
    request = SampleRequest(prompt="And", max_tokens=100, temperature=1.0, seed=2)
    try:
        chunks = list(stream(grouped, request, CallControl()))
    finally:
        grouped.close()
    assert "".join(c.text for c in chunks) == sample(engine, request, CallControl())[0].text
    assert len(chunks) < 50 and chunks[-1].finish_reason == "LENGTH"


def test_a_transformer_prompt_is_cut_to_what_can_still_matter():
    """Past n_layer x (window - 1) + 1 tokens a windowed Transformer cannot see: prompts that
    differ only further back give the same text, and only the reach is prefilled."""
    engine = make_engine("tiny-transformer")
    try:
        reach = engine.runtime.reach
        assert reach == 2 * 11 + 1  # the tiny model: 2 layers, window 12
        tail = ("And God said, Let there be light: and there was light. " * 2)[:reach]
        texts = []
        for head in ("In the beginning God created the heaven. ", "And the evening and the morning. " * 3):
            before = engine.batcher.prefilled
            texts.append(sample(engine, SampleRequest(prompt=head + tail, max_tokens=60, seed=5), CallControl()))
            assert engine.batcher.prefilled - before == reach
        assert same_completions(*texts)
    finally:
        engine.close()

"""Sample and SampleStream end to end: a real server on port 0 and the raw generated stubs."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from oneiros.v1 import oneiros_pb2 as pb
from tests.grpc_helpers import field_violations
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until


@pytest.fixture
def running(serve):
    return serve(tiny_lm_repository())


def engine_of(running):
    return running.server.repository.resolve("tiny-lm", "Sample").engine_set


def test_model_info_shows_vocabulary_defaults_and_metrics(running):
    info = running.stub.GetModel(pb.GetModelRequest(name="tiny-lm"))
    assert info.kind == pb.LANGUAGE_MODEL and info.status == pb.READY
    assert info.vocabulary_size == len(info.vocabulary) > 10
    assert info.default_parameters["temperature"] == 0.5
    assert "heldout_bits_per_char" in info.metrics


def test_seeded_sample_is_reproducible_and_stream_equals_unary(running):
    request = pb.SampleRequest(prompt="And God", max_tokens=50, temperature=0.9, seed=42, n=2)
    first = running.stub.Sample(request)
    assert first.model == "tiny-lm"  # the repository default for Sample
    assert first == running.stub.Sample(request)
    texts = {0: "", 1: ""}
    last = {}
    for chunk in running.stub.SampleStream(request):
        texts[chunk.index] += chunk.text
        if chunk.finish_reason:
            last[chunk.index] = chunk
    for c in first.completions:
        assert texts[c.index] == c.text and len(c.text) == 50
        assert last[c.index].finish_reason == c.finish_reason == pb.LENGTH
        assert last[c.index].token_count == c.token_count == 50
        assert last[c.index].mean_entropy_bits == pytest.approx(c.mean_entropy_bits)


def test_stop_sequences(running):
    greedy = running.stub.Sample(pb.SampleRequest(prompt="And", max_tokens=60, temperature=0)).completions[0]
    stop = greedy.text[20:23]
    cut = running.stub.Sample(pb.SampleRequest(prompt="And", max_tokens=60, temperature=0, stop=[stop, "zzz"]))
    c = cut.completions[0]
    assert c.finish_reason == pb.STOP and c.text == greedy.text[: greedy.text.index(stop)]
    streamed = "".join(
        k.text
        for k in running.stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=60, temperature=0, stop=[stop]))
    )
    assert streamed == c.text


def test_entropy_rises_with_temperature(running):
    figures = []
    for t in (0.2, 0.5, 1.0, 1.2):
        response = running.stub.Sample(pb.SampleRequest(prompt="And", max_tokens=200, temperature=t, seed=7))
        figures.append(response.completions[0].mean_entropy_bits)
    assert figures == sorted(figures) and figures[-1] > figures[0] + 0.5


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(prompt="caf\u00e9"), "prompt"),
        (dict(temperature=-1), "temperature"),
        (dict(top_p=0), "top_p"),
        (dict(top_p=1.01), "top_p"),
        (dict(max_tokens=100000), "max_tokens"),
        (dict(n=99), "n"),
        (dict(stop=[""]), "stop[0]"),
    ],
)
def test_invalid_fields_are_invalid_argument_naming_the_field(running, fields, field):
    with pytest.raises(grpc.RpcError) as info:
        running.stub.Sample(pb.SampleRequest(**fields))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(info.value) and field in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        list(running.stub.SampleStream(pb.SampleRequest(**fields)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_model_is_not_found(running):
    with pytest.raises(grpc.RpcError) as info:
        running.stub.Sample(pb.SampleRequest(model="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_cancelled_stream_frees_its_slot(running):
    engine = engine_of(running)
    call = running.stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=2000, temperature=1.0))
    next(call)
    assert engine.active == 1
    call.cancel()
    assert wait_until(lambda: engine.active == 0)


def test_deadline_stops_the_work(running):
    engine = engine_of(running)
    with pytest.raises(grpc.RpcError) as info:
        for _ in running.stub.SampleStream(
            pb.SampleRequest(prompt="And", max_tokens=2000, temperature=1.0), timeout=0.3
        ):
            time.sleep(0.005)  # a slow reader: the deadline passes mid-stream
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert wait_until(lambda: engine.active == 0)


def test_concurrent_streams_advance_together(running):
    engine = engine_of(running)
    seen = []

    def stream(seed):
        text = "".join(
            k.text
            for k in running.stub.SampleStream(
                pb.SampleRequest(prompt="And", max_tokens=150, temperature=1.0, seed=seed)
            )
        )
        seen.append((seed, text))

    threads = [threading.Thread(target=stream, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.batcher.stats.largest >= 2
    for seed, text in seen:
        alone = running.stub.Sample(pb.SampleRequest(prompt="And", max_tokens=150, temperature=1.0, seed=seed))
        assert alone.completions[0].text == text

"""The Transformer served beside the GRU: both listed with their architecture, Sample and
SampleStream past the window, long prompts, every sampling control."""

from __future__ import annotations

import pytest

from oneiros.v1 import oneiros_pb2 as pb
from tests.lm_tiny import tiny_transformer_repository

WINDOW = 12  # tests.lm_tiny's tiny Transformer


@pytest.fixture
def running(serve):
    return serve(tiny_transformer_repository(), sample_prefill_chunk=5)


def test_both_language_models_are_listed_with_their_architecture(running):
    models = running.stub.ListModels(pb.ListModelsRequest(kind=pb.LANGUAGE_MODEL)).models
    by_name = {m.name: m for m in models}
    assert set(by_name) == {"tiny-lm", "tiny-transformer"}
    assert all(m.status == pb.READY for m in models)
    transformer = running.stub.GetModel(pb.GetModelRequest(name="tiny-transformer"))
    assert transformer.architecture["type"] == "decoder-only Transformer"
    assert (transformer.architecture["n_layer"], transformer.architecture["window"]) == (2, WINDOW)
    assert transformer.metrics["heldout_bits_per_char"] > 0 and "onnx_parity_max_abs" in transformer.metrics
    assert by_name["tiny-lm"].architecture["cell"] == "GRU"


def test_generation_past_the_window_streams_the_unary_text(running):
    prompt = "And God said, Let there be light: and there was light."  # 55 chars: 11 chunks, > the window
    request = pb.SampleRequest(
        model="tiny-transformer",
        prompt=prompt,
        max_tokens=10 * WINDOW,
        temperature=0.9,
        top_k=8,
        top_p=0.95,
        seed=7,
        n=3,
    )
    unary = running.stub.Sample(request)
    assert unary.model == "tiny-transformer" and unary == running.stub.Sample(request)
    texts = {i: "" for i in range(3)}
    for chunk in running.stub.SampleStream(request):
        texts[chunk.index] += chunk.text
    for c in unary.completions:
        assert len(c.text) == c.token_count == 10 * WINDOW and c.finish_reason == pb.LENGTH
        assert texts[c.index] == c.text
    assert len({c.text for c in unary.completions}) == 3  # three draws, three texts


def test_greedy_stop_and_seeds(running):
    base = dict(model="tiny-transformer", prompt="And", max_tokens=40)
    greedy = running.stub.Sample(pb.SampleRequest(**base, temperature=0)).completions[0]
    assert greedy.mean_entropy_bits == 0.0
    stop = greedy.text[15:18]
    cut = running.stub.Sample(pb.SampleRequest(**base, temperature=0, stop=[stop])).completions[0]
    assert cut.finish_reason == pb.STOP and cut.text == greedy.text[: greedy.text.index(stop)]
    a, b = (running.stub.Sample(pb.SampleRequest(**base, temperature=1.0, seed=s)).completions[0].text for s in (1, 2))
    assert a != b


def test_the_sdk_shows_the_architecture(running):
    from oneiros_client import Client

    with Client(f"127.0.0.1:{running.server.port}", timeout=10) as client:
        info = client.model("tiny-transformer")
        text = client.sample("And", model="tiny-transformer", max_tokens=3 * WINDOW, seed=1)[0].text
    assert info.architecture["window"] == WINDOW and info.architecture["positions"] == "rotary"
    assert len(text) == 3 * WINDOW


def test_the_openai_door_serves_it_too(running):
    from openai import OpenAI

    with OpenAI(base_url=running.http_url + "/v1", api_key="unused", max_retries=0, timeout=30) as client:
        listed = {m.id for m in client.models.list()}
        reply = client.completions.create(model="tiny-transformer", prompt="And", max_tokens=30, seed=4)
        streamed = "".join(
            c.choices[0].text
            for c in client.completions.create(
                model="tiny-transformer", prompt="And", max_tokens=30, seed=4, stream=True
            )
        )
    assert {"tiny-lm", "tiny-transformer"} <= listed
    assert reply.model == "tiny-transformer" and len(reply.choices[0].text) == 30
    assert streamed == reply.choices[0].text

"""POST /v1/completions through the official ``openai`` client, as users call it."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import OpenAI

from oneiros.v1 import oneiros_pb2 as pb
from tests.lm_tiny import tiny_lm_repository


@pytest.fixture
def running(serve):
    return serve(tiny_lm_repository(), auth_tokens="sk-test")


@pytest.fixture
def client(running):
    with OpenAI(base_url=running.http_url + "/v1", api_key="sk-test", max_retries=0, timeout=30) as c:
        yield c


def test_completion_equals_sample(running, client):
    reply = client.completions.create(model="tiny-lm", prompt="And God", max_tokens=40, temperature=0.9, seed=3, n=2)
    metadata = [("authorization", "Bearer sk-test")]
    expected = running.stub.Sample(
        pb.SampleRequest(model="tiny-lm", prompt="And God", max_tokens=40, temperature=0.9, seed=3, n=2),
        metadata=metadata,
    )
    assert [c.text for c in reply.choices] == [c.text for c in expected.completions]
    assert [c.index for c in reply.choices] == [0, 1]
    assert {c.finish_reason for c in reply.choices} == {"length"}
    assert reply.object == "text_completion" and reply.model == "tiny-lm"
    assert reply.usage.prompt_tokens == len("And God")
    assert reply.usage.completion_tokens == 80 and reply.usage.total_tokens == 87


def test_prompt_list_stop_and_top_p(client):
    greedy = client.completions.create(model="tiny-lm", prompt="And", max_tokens=40, temperature=0).choices[0].text
    stop = greedy[10:13]
    reply = client.completions.create(
        model="", prompt=["And", "God"], max_tokens=40, temperature=0, stop=[stop, "qqq"], top_p=0.9, n=2
    )
    assert [c.index for c in reply.choices] == [0, 1, 2, 3]
    assert reply.choices[0].text == greedy[: greedy.index(stop)] and reply.choices[0].finish_reason == "stop"


def test_several_prompts_hold_one_version_and_release_it(running, client):
    # each prompt is a Sample on the same call: it must not hold the model once per prompt
    reply = client.completions.create(model="", prompt=["And", "God", "In"], max_tokens=5, seed=1)
    assert reply.model == "tiny-lm" and len(reply.choices) == 3
    chunks = list(client.completions.create(model="", prompt=["And", "God"], max_tokens=5, seed=1, stream=True))
    assert {c.model for c in chunks} == {"tiny-lm"}
    assert [(m.name, m.in_flight) for m in running.server.repository.models] == [("tiny-lm", 0)]


def test_streaming_equals_the_whole_completion(client):
    params = dict(model="tiny-lm", prompt=["And", "In the"], max_tokens=30, temperature=1.0, seed=9, n=2)
    whole = client.completions.create(**params)
    texts: dict[int, str] = {}
    finish: dict[int, str] = {}
    usage = None
    for chunk in client.completions.create(**params, stream=True, stream_options={"include_usage": True}):
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
            if choice.finish_reason:
                finish[choice.index] = choice.finish_reason
    assert texts == {c.index: c.text for c in whole.choices}
    assert finish == {i: "length" for i in range(4)}
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens == 120


def test_stream_ends_with_done(running):
    with httpx.stream(
        "POST",
        running.http_url + "/v1/completions",
        json={"prompt": "And", "max_tokens": 5, "stream": True},
        headers={"authorization": "Bearer sk-test"},
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


def test_unsupported_parameters_are_refused_in_openai_shape(running, client):
    for extra in ({"logprobs": 2}, {"echo": True}, {"best_of": 3}, {"presence_penalty": 0.5}, {"suffix": "x"}):
        with pytest.raises(openai.BadRequestError) as err:
            client.completions.create(model="tiny-lm", prompt="And", max_tokens=5, **extra)
        body = err.value.body
        assert body["type"] == "invalid_request_error" and body["param"] == next(iter(extra)), body
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="tiny-lm", prompt="And", extra_body={"mirostat": 1})
    assert err.value.body["param"] == "mirostat"
    # no-op values of the parameters we do not implement are accepted
    ok = client.completions.create(model="tiny-lm", prompt="And", max_tokens=3, echo=False, frequency_penalty=0)
    assert len(ok.choices[0].text) == 3


def test_errors_in_openai_shape(running, client):
    with pytest.raises(openai.NotFoundError) as missing:
        client.completions.create(model="nope", prompt="And")
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.completions.create(model="tiny-lm", prompt="And", temperature=-1)
    assert bad.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="tiny-lm", prompt=[1, 2, 3])
    with pytest.raises(openai.BadRequestError) as streamed:
        list(client.completions.create(model="tiny-lm", prompt="And", temperature=-1, stream=True))
    assert streamed.value.body["param"] == "temperature"
    with OpenAI(base_url=running.http_url + "/v1", api_key="wrong", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError) as denied:
            stranger.completions.create(model="tiny-lm", prompt="And")
    assert denied.value.body["type"] == "authentication_error"

"""Hostile bodies: every list and string capped, no 500 from input, bodies converted off the event
loop (the loop keeps answering health checks), per-route size limits (issue 25, items 1, 2, 4, 8)."""

from __future__ import annotations

import logging
import socket
import threading

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.server.transport.http.helpers import tiny_repository, violations
from tests.waiting import wait_until

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return tiny_repository(tmp_path_factory.mktemp("models"))


@pytest.fixture
def http(serve, repo):
    running = serve(repo, max_images_per_request=16, sample_max_n=4, sample_max_stop=2, sample_max_prompt_chars=64)
    with httpx.Client(base_url=running.http_url, timeout=30) as client:
        client.running = running  # type: ignore[attr-defined]
        yield client


def post(http: httpx.Client, path: str, raw: bytes, headers: dict = JSON) -> httpx.Response:
    return http.post(path, content=raw, headers=headers)


def test_every_list_has_a_cap_named_in_the_400(http):
    many = {"latents": [{}] * 17}
    assert violations(http.post("/v1/decode", json=many)) == ["latents"]
    sweep = {"latent": {"values": [0, 0, 0, 0]}, "sweepAttribute": "a", "strengths": [0.0] * 17}
    assert violations(http.post("/v1/edit-latent", json=sweep)) == ["strengths"]
    edits = {"latent": {"values": [0, 0, 0, 0]}, "edits": [{"attribute": "a", "strength": 1}] * 65}
    assert violations(http.post("/v1/edit-latent", json=edits)) == ["edits"]
    assert violations(http.post("/v1/sample", json={"prompt": "A", "stop": ["a", "b", "c"]})) == ["stop"]
    assert violations(http.post("/v1/sample", json={"prompt": "A", "stop": ["x" * 65]})) == ["stop"]
    long_name = http.post("/v1/decode", json={"model": "m" * 100_000, "count": 1})
    assert long_name.status_code == 400 and violations(long_name) == ["model"] and len(long_name.text) < 2000
    values = http.post("/v1/decode", json={"latents": [{"values": [0] * 65537}]})
    assert violations(values) == ["latents.values"]


def test_a_body_over_the_routes_limit_is_413_before_it_is_read(http):
    # Sample's limit follows --sample-max-prompt-chars: far below --max-message-bytes.
    assert http.post("/v1/sample", json={"prompt": "a" * 200_000}).status_code == 413
    chunked = http.post("/v1/sample", content=(b" " * 4096 for _ in range(64)), headers=JSON)  # no length
    assert chunked.status_code == 413


def test_completions_cap_prompts_times_n(http):
    too_many = http.post("/v1/completions", json={"prompt": ["a"] * 5, "max_tokens": 1})
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "prompt"
    product = http.post("/v1/completions", json={"prompt": ["a", "b"], "n": 3, "max_tokens": 1})
    assert product.status_code == 400 and product.json()["error"]["param"] == "n"
    fits = http.post("/v1/completions", json={"prompt": ["a", "b"], "n": 2, "max_tokens": 1})
    assert fits.status_code == 200 and len(fits.json()["choices"]) == 4


def test_openai_defaults_of_unsupported_parameters_are_accepted(http):
    defaults = {"best_of": 1, "echo": False, "logprobs": None, "suffix": None, "logit_bias": {}}
    defaults |= {"frequency_penalty": 0, "presence_penalty": 0.0, "n": 1, "stream": False}
    reply = http.post("/v1/completions", json={"prompt": "A", "max_tokens": 2} | defaults)
    assert reply.status_code == 200, reply.text
    for key, value in {"best_of": 2, "echo": True, "logprobs": 0, "presence_penalty": 0.5}.items():
        refused = http.post("/v1/completions", json={"prompt": "A", key: value})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == key


@pytest.mark.parametrize(
    "path, raw, field",
    [
        ("/v1/completions", b'{"prompt": "a", "n": 1e999}', "n"),
        ("/v1/completions", b'{"prompt": "a", "n": NaN}', "n"),
        ("/v1/completions", b'{"prompt": "a", "temperature": Infinity}', "temperature"),
        ("/v1/completions", b'{"prompt": "a", "seed": -Infinity}', "seed"),
        ("/v1/completions", b'{"prompt": "a", "seed": 36893488147419103232}', "seed"),
        ("/v1/completions", b'{"prompt": "\\ud800"}', "prompt"),
        ("/v1/sample", b'{"prompt": "a", "temperature": NaN}', "temperature"),
        ("/v1/sample", b'{"prompt": "a", "temperature": "Infinity"}', "temperature"),
        ("/v1/sample", b'{"prompt": "a", "seed": 36893488147419103232}', "seed"),
        ("/v1/decode", b'{"count": 36893488147419103232}', "count"),
        ("/v1/decode", b'{"\\ud800": 1}', "body"),
        ("/v1/decode", b'{"count": 1, "outputFormat": "\\ud800"}', "output_format"),
        ("/v1/decode", b'{"latents": [{"values": [1e999, 0, 0, 0]}]}', "latents.values"),
    ],
)
def test_json_that_parses_but_cannot_be_a_request_is_400_naming_the_field(http, path, raw, field):
    reply = post(http, path, raw)
    assert reply.status_code == 400, reply.text
    if path == "/v1/completions":
        assert reply.json()["error"]["param"] == field
    else:
        assert violations(reply) == [field]


def test_integers_beyond_pythons_digit_limit_are_400(http):
    digits = b"9" * 5000
    for path in ("/v1/decode", "/v1/sample", "/v1/completions"):
        assert post(http, path, b'{"count": ' + digits + b"}").status_code == 400
    assert post(http, "/v1/decode", b"count=" + digits, FORM).status_code == 400


def test_forms_with_too_many_fields_are_refused_at_once(http):
    assert post(http, "/v1/decode", b"&" * 100_000, FORM).status_code == 400
    boundary = "b"
    separators = b"--b\r\n" * 20_000
    multipart = {"content-type": f"multipart/form-data; boundary={boundary}"}
    assert post(http, "/v1/decode", separators, multipart).status_code == 400
    assert post(http, "/v1/decode", b"count=2&seed=1", FORM).status_code == 200  # a plain form still works


def test_the_loop_answers_health_checks_while_a_hostile_body_is_converted(http):
    """Bodies of 300,000 empty latents and of 300,000 numbers are refused (400) while /healthz and
    gRPC health, called all along from other threads, keep answering."""
    running = http.running
    failures, done, stop = [], [0, 0], threading.Event()

    def check(i: int, call) -> None:
        while not stop.is_set():
            try:
                call()
                done[i] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                failures.append(exc)

    channel = grpc.insecure_channel(running.target)
    health = health_pb2_grpc.HealthStub(channel)
    probe = httpx.Client(base_url=running.http_url, timeout=30)
    checkers = [
        threading.Thread(target=check, args=(0, lambda: probe.get("/healthz").raise_for_status())),
        threading.Thread(target=check, args=(1, lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=30))),
    ]
    for t in checkers:
        t.start()
    assert wait_until(lambda: min(done) > 0)
    try:
        body = b'{"latents": [' + b",".join([b"{}"] * 300_000) + b"]}"
        reply = post(http, "/v1/decode", body)
        assert reply.status_code == 400 and "JSON objects" in reply.json()["error"]["message"]
        numbers = b'{"count": 1, "latents": [{"values": [' + b",".join([b"0"] * 300_000) + b"]}]}"
        assert violations(post(http, "/v1/decode", numbers)) == ["latents.values"]
        seen = list(done)
        assert wait_until(lambda: done[0] > seen[0] and done[1] > seen[1])  # both still answer
    finally:
        stop.set()
        for t in checkers:
            t.join()
        probe.close()
        channel.close()
    assert failures == []


def test_an_aborted_upload_is_logged_at_info_without_a_traceback(http, caplog):
    port = http.running.server.http_port
    with caplog.at_level(logging.INFO):
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = b"POST /v1/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            sock.sendall(head + b"Content-Length: 100000\r\n\r\n" + b'{"count": ')
        assert wait_until(lambda: any("upload" in r.getMessage() for r in caplog.records))
    left = [r for r in caplog.records if "upload" in r.getMessage()]
    assert left[0].levelno == logging.INFO and left[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""Server-sent events against the gRPC streams, and clients that leave: their work is freed."""

from __future__ import annotations

import json
import socket
import urllib.request

import httpx
import pytest
from google.protobuf import json_format
from prometheus_client.parser import text_string_to_metric_families

from oneiros.v1 import oneiros_pb2 as pb
from tests.lm_tiny import tiny_lm_repository
from tests.server.transport.http.helpers import events, iter_events
from tests.waiting import wait_until

HOLD = pb.SampleRequest(prompt="And", max_tokens=1 << 20, temperature=1.0)  # runs until cancelled


def joined(chunks: list[pb.SampleChunk]) -> dict[int, tuple]:
    """Per completion: its whole text and its last chunk's figures (chunks merge when a reader lags)."""
    texts: dict[int, str] = {}
    last: dict[int, pb.SampleChunk] = {}
    for chunk in chunks:
        texts[chunk.index] = texts.get(chunk.index, "") + chunk.text
        if chunk.finish_reason:
            last[chunk.index] = chunk
    return {
        i: (t, last[i].finish_reason, last[i].token_count, round(last[i].mean_entropy_bits, 4))
        for i, t in texts.items()
    }


def requests_total(running, **labels) -> float:
    """The calls counted with ``labels``, over every other label (model): the registry is the process's."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{running.server.metrics_port}/metrics", timeout=10).read()
    return sum(
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "oneiros_requests_total" and labels.items() <= sample.labels.items()
    )


def test_sse_stream_equals_the_grpc_stream(serve):
    running = serve(tiny_lm_repository())
    before = requests_total(running, rpc="SampleStream", transport="http", code="OK")
    request = pb.SampleRequest(prompt="And God", max_tokens=80, temperature=1.0, seed=11, n=3, stop=["zq"])
    over_grpc = list(running.stub.SampleStream(request))
    with httpx.stream("POST", running.http_url + "/v1/sample/stream", json=json_format.MessageToDict(request)) as r:
        over_http = [json_format.Parse(data, pb.SampleChunk()) for name, data in events(r)]
    assert joined(over_http) == joined(over_grpc)
    assert len(joined(over_http)) == 3
    # The call is metered when the server closes it, which may come just after the last event.
    assert wait_until(lambda: requests_total(running, rpc="SampleStream", transport="http", code="OK") == before + 1)


def raw_request(port: int, path: str, body: dict) -> socket.socket:
    """Send a POST on a plain socket (so that the test can hang up whenever it likes)."""
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    sock.sendall(head.encode() + data)
    return sock


@pytest.fixture
def one_slot(serve):
    """One sequence at a time, one more queued (as in tests/server/e2e/test_streams.py)."""
    running = serve(tiny_lm_repository(), batch_max_size=1, batch_queue_size=1, sample_max_tokens=1 << 20)
    return running, running.server.repository.resolve("tiny-lm", "Sample").engine_set


@pytest.mark.parametrize("path", ["/v1/sample", "/v1/sample/stream", "/v1/completions"])
def test_a_queued_client_that_hangs_up_frees_its_slot(one_slot, path):
    running, engine = one_slot
    rpc = "Sample" if path in ("/v1/sample", "/v1/completions") else "SampleStream"
    before = requests_total(running, rpc=rpc, transport="http", code="CANCELLED")  # the registry is per process
    holder = running.stub.SampleStream(HOLD)
    next(holder)
    sock = raw_request(running.server.http_port, path, {"prompt": "And God said", "max_tokens": 5})
    assert wait_until(lambda: engine.batcher.depth == 1)
    sock.close()
    assert wait_until(lambda: engine.batcher.depth == 0)  # while the holder still runs
    assert wait_until(lambda: requests_total(running, rpc=rpc, transport="http", code="CANCELLED") == before + 1)
    holder.cancel()


def test_a_streaming_client_that_hangs_up_stops_its_generation(one_slot):
    running, engine = one_slot
    before = requests_total(running, rpc="SampleStream", transport="http", code="CANCELLED")
    with httpx.stream("POST", running.http_url + "/v1/sample/stream", json={"prompt": "And", "max_tokens": 2000}) as r:
        held = iter_events(r)
        next(held)
        assert engine.active == 1
    assert wait_until(lambda: engine.active == 0)
    assert wait_until(
        lambda: requests_total(running, rpc="SampleStream", transport="http", code="CANCELLED") == before + 1
    )


def test_a_deadline_frees_a_queued_call_and_answers_504(one_slot):
    running, engine = one_slot
    holder = running.stub.SampleStream(HOLD)
    next(holder)
    late = httpx.post(
        running.http_url + "/v1/sample", json={"prompt": "And", "max_tokens": 5}, headers={"timeout": "0.5"}, timeout=30
    )
    assert late.status_code == 504
    assert engine.batcher.depth == 0
    with httpx.stream(
        "POST", running.http_url + "/v1/sample/stream", json={"prompt": "A", "max_tokens": 5, "timeout": "500ms"}
    ) as streamed:
        assert streamed.status_code == 504  # no event came before the deadline, so the status says it
    assert wait_until(lambda: engine.batcher.depth == 0)
    holder.cancel()

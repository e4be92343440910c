"""Limits on the wire (issue 25, items 3 and 7): header and body time limits, header size and
count (431), the metrics port without a thread per connection, and Sample's queue-wait limit."""

from __future__ import annotations

import socket
import threading

import grpc
import httpx
import pytest

from oneiros.v1 import oneiros_pb2 as pb
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

READ_TIMEOUT_S = 0.5


@pytest.fixture
def running(serve, tmp_path):
    return serve(tmp_path, http_read_timeout_s=READ_TIMEOUT_S, http_max_header_bytes=4096, http_max_headers=20)


@pytest.fixture
def patient(serve, tmp_path):
    """Small header limits and a read timeout no loaded machine reaches between two sends."""
    return serve(tmp_path, http_read_timeout_s=600, http_max_header_bytes=4096, http_max_headers=20)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(30)  # far beyond the server's limits: a hang fails the test, not the server
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_headers_that_never_end_get_408_and_the_connection_closes(running):
    with connect(running.server.http_port) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: a")
        assert answer(sock).startswith(b"HTTP/1.1 408")


def test_an_idle_connection_is_closed(running):
    with connect(running.server.http_port) as sock:
        assert answer(sock) == b""


def test_a_body_that_never_ends_gets_408(running):
    with connect(running.server.http_port) as sock:
        head = b"POST /v1/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: 1000\r\n\r\n{")
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 408") and b"DEADLINE_EXCEEDED" in reply


def test_a_body_in_one_byte_chunks_is_refused(patient):
    with connect(patient.server.http_port) as sock:
        head = b"POST /v1/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        chunks = b"1\r\n \r\n" * 5000 + b"0\r\n\r\n"
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        assert answer(sock).startswith(b"HTTP/1.1 400")
    ok = httpx.post(patient.http_url + "/v1/decode", content=(b"x" * 4096 for _ in range(8)), timeout=30)
    assert ok.status_code == 400 and "JSON" in ok.text  # honest chunks reach the app (and its JSON check)


def test_requests_pipelined_too_deep_close_the_connection(patient):
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(patient.server.http_port) as sock:
        sock.sendall(request * 4 + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert answer(sock).count(b"HTTP/1.1 200") == 5  # a few are answered in order
    with connect(patient.server.http_port) as sock:
        sock.sendall(request * 1000)
        assert answer(sock).count(b"HTTP/1.1 200") < 100  # closed long before the thousandth


def test_too_many_or_too_large_headers_get_431(patient):
    running = patient
    url = running.http_url + "/v1/models"
    assert httpx.get(url, headers={"x-big": "a" * 8192}, timeout=30).status_code == 431
    assert httpx.get(url, headers=[(f"x-h{i}", "1") for i in range(30)], timeout=30).status_code == 431
    with connect(running.server.http_port) as sock:  # one header that never ends, sent in pieces
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ")
        for _ in range(4):
            try:
                sock.sendall(b"a" * 2048)
            except OSError:
                break  # refused while sending
        assert answer(sock).startswith(b"HTTP/1.1 431")
    assert httpx.get(url, headers={"x-fine": "a" * 1000}, timeout=30).status_code == 200


def test_idle_metrics_connections_take_no_threads(running):
    before = threading.active_count()
    sockets = [connect(running.server.metrics_port) for _ in range(50)]
    try:
        body = httpx.get(f"http://127.0.0.1:{running.server.metrics_port}/metrics", timeout=30).text
        assert "oneiros_requests_total" in body
        assert threading.active_count() < before + 5
    finally:
        for sock in sockets:
            sock.close()


def test_a_sample_queued_behind_streams_is_told_to_come_back(serve):
    running = serve(tiny_lm_repository(), batch_max_size=1, sample_max_tokens=1 << 20, batch_max_queue_wait_s=0.2)
    holder = running.stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=1 << 20))
    next(holder)  # holds the only slot until cancelled
    try:
        with pytest.raises(grpc.RpcError) as refused:
            running.stub.Sample(pb.SampleRequest(prompt="God", max_tokens=2), timeout=60)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        reply = httpx.post(running.http_url + "/v1/sample", json={"prompt": "God", "max_tokens": 2}, timeout=60)
        assert reply.status_code == 429 and int(reply.headers["retry-after"]) >= 1
    finally:
        holder.cancel()
    engine = running.server.repository.resolve("tiny-lm", "Sample").engine_set
    assert wait_until(lambda: engine.batcher.depth == 0 and engine.active == 0)
    assert running.stub.Sample(pb.SampleRequest(prompt="God", max_tokens=2), timeout=60).completions

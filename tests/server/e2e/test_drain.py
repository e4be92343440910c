"""SIGTERM under load: in-flight streams finish in full, new calls are refused, the process exits 0."""

from __future__ import annotations

import signal
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from tests.lm_tiny import tiny_lm_repository
from tests.server.e2e.test_lifecycle import _start

STREAMS = 24
TOKENS = 600


def test_sigterm_drains_streams_under_load():
    proc, port = _start(tiny_lm_repository(), "--port", "0", "--grace-period-s", "60", "--metrics-port", "-1")
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(600):  # until the models are loaded
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=10, wait_for_ready=True).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                break
            time.sleep(0.1)
        calls = [
            stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=TOKENS, temperature=1.0, seed=s))
            for s in range(STREAMS)
        ]
        firsts = [next(call) for call in calls]  # every stream is running
        results: list = [None] * STREAMS

        def read(i: int) -> None:
            results[i] = [firsts[i], *calls[i]]

        readers = [threading.Thread(target=read, args=(i,)) for i in range(STREAMS)]
        for reader in readers:
            reader.start()
        proc.send_signal(signal.SIGTERM)
        refused = None
        for _ in range(50):  # until the drain has begun
            try:
                stub.Sample(pb.SampleRequest(max_tokens=1), timeout=10)
            except grpc.RpcError as err:
                refused = err.code()
                break
        assert refused == grpc.StatusCode.UNAVAILABLE
        for reader in readers:
            reader.join(120)
        for chunks in results:
            assert chunks is not None
            assert chunks[-1].finish_reason == pb.LENGTH and chunks[-1].token_count == TOKENS
            assert len("".join(c.text for c in chunks)) == TOKENS  # nothing cut
        assert proc.wait(timeout=60) == 0
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()

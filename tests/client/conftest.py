"""Fixtures for the SDK tests: a fake server and a client of it."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_client import (
    Client,
    RetryPolicy,
)
from tests.client.fake_oneiros import FakeOneiros


@pytest.fixture()
def fake():
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    servicer = FakeOneiros()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    oneiros_pb2_grpc.add_OneirosServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("oneiros.v1.Oneiros", health_pb2.HealthCheckResponse.NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    servicer.target = f"127.0.0.1:{port}"
    yield servicer
    server.stop(None)


@pytest.fixture()
def client(fake):
    with Client(fake.target, timeout=5, retry_policy=RetryPolicy(retries=3, initial_backoff_s=0.01)) as c:
        yield c

"""Shared fixtures: a real in-process Oneiros server on port 0."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.app import OneirosServer
from oneiros_server.engines.registry import Registry
from oneiros_server.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Running:
    server: OneirosServer
    channel: grpc.Channel

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    @property
    def stub(self) -> oneiros_pb2_grpc.OneirosStub:
        return oneiros_pb2_grpc.OneirosStub(self.channel)

    @property
    def http_url(self) -> str:
        """The HTTP/JSON transport's base URL (the fixture binds it to a free port too)."""
        return f"http://127.0.0.1:{self.server.http_port}"


@pytest.fixture
def serve():
    """Factory: ``serve(model_repository, registry=None, **settings) -> Running`` (gRPC and HTTP on free
    ports; ``registry``: the kinds served, default the shipped ones); all stopped at teardown."""
    started: list[Running] = []

    def _serve(model_repository: Path, registry: Registry | None = None, **overrides) -> Running:
        options = dict(
            host="127.0.0.1", port=0, metrics_port=0, http_port=0, model_repository=model_repository, log_json=False
        )
        settings = Settings(**(options | overrides))
        server = OneirosServer(settings, registry)
        server.start()
        running = Running(server, grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        started.append(running)
        return running

    yield _serve
    for running in started:
        running.channel.close()
        running.server.stop(grace=0)

"""The Prometheus endpoint: real calls move the figures."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from oneiros.v1 import oneiros_pb2 as pb
from tests.latent_models import make_latent_model


def _scrape(port: int) -> dict[tuple, float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_calls_are_counted_by_rpc_model_version_and_code(serve, tmp_path):
    make_latent_model(tmp_path, "a")
    running = serve(tmp_path)
    grpc_, none = ("transport", "grpc"), ("version", "")
    key_nf = ("oneiros_requests_total", (("code", "NOT_FOUND"), ("model", "unknown"), ("rpc", "GetModel"), grpc_, none))
    key_ok = ("oneiros_requests_total", (("code", "OK"), ("model", "default"), ("rpc", "ListModels"), grpc_, none))
    key_v1 = ("oneiros_requests_total", (("code", "OK"), ("model", "a"), ("rpc", "Decode"), grpc_, ("version", "1")))
    before = _scrape(running.server.metrics_port)
    running.stub.ListModels(pb.ListModelsRequest())
    running.stub.Decode(pb.DecodeRequest(model="a", count=1))
    for _ in range(3):
        with pytest.raises(grpc.RpcError):
            running.stub.GetModel(pb.GetModelRequest(name="nope"))
    after = _scrape(running.server.metrics_port)
    assert after[key_nf] - before.get(key_nf, 0) == 3
    assert after[key_ok] - before.get(key_ok, 0) == 1
    assert after[key_v1] - before.get(key_v1, 0) == 1  # the version that answered
    hist = ("oneiros_request_duration_seconds_count", (("rpc", "GetModel"),))
    assert after[hist] - before.get(hist, 0) == 3


def test_metrics_can_be_turned_off(serve, tmp_path):
    running = serve(tmp_path, metrics_port=-1)
    assert running.server.metrics_port == 0

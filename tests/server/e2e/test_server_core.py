"""The server core without any engine: repository states, health, reflection, errors, shutdown."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from oneiros.v1 import oneiros_pb2 as pb


def _write_model(root: Path, name: str, manifest: dict | str) -> Path:
    version = root / name / "1"
    version.mkdir(parents=True)
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (version / "model.json").write_text(text)
    return version


@pytest.fixture
def broken_repo(tmp_path: Path) -> Path:
    _write_model(tmp_path, "garbled", "{not json")
    _write_model(
        tmp_path,
        "missing-file",
        {
            "name": "missing-file",
            "version": "1",
            "kind": "VAE",
            "runtime": "onnxruntime",
            "files": {"decoder": {"path": "decoder.onnx", "sha256": "0" * 64}},
            "spec": {"latent_size": 2},
        },
    )
    bad = _write_model(
        tmp_path,
        "bad-hash",
        {
            "name": "bad-hash",
            "version": "1",
            "kind": "GAN",
            "runtime": "onnxruntime",
            "files": {"generator": {"path": "g.onnx", "sha256": "0" * 64}},
            "spec": {"latent_size": 2},
        },
    )
    (bad / "g.onnx").write_bytes(b"not the file the manifest describes")
    return tmp_path


def test_unavailable_models_are_listed_with_reasons(serve, broken_repo):
    running = serve(broken_repo)
    models = {m.name: m for m in running.stub.ListModels(pb.ListModelsRequest()).models}
    assert set(models) == {"garbled", "missing-file", "bad-hash"}
    assert all(m.status == pb.UNAVAILABLE for m in models.values())
    assert "missing" in models["missing-file"].status_reason
    assert "sha256" in models["bad-hash"].status_reason
    assert "model.json" in models["garbled"].status_reason
    assert models["bad-hash"].kind == pb.GAN
    only_vae = running.stub.ListModels(pb.ListModelsRequest(kind=pb.VAE)).models
    assert [m.name for m in only_vae] == ["missing-file"]


def test_calls_to_unavailable_model_get_unavailable(serve, broken_repo):
    running = serve(broken_repo)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Decode(pb.DecodeRequest(model="bad-hash", count=1))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "bad-hash" in err.value.details()


def test_get_model_errors_name_the_field(serve, broken_repo):
    stub = serve(broken_repo).stub
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModel(pb.GetModelRequest(name="no-such-model"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-model" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.GetModel(pb.GetModelRequest(name=""))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert bad_request.field_violations[0].field == "name"


def test_health_overall_and_per_family(serve, broken_repo):
    running = serve(broken_repo)
    health = health_pb2_grpc.HealthStub(running.channel)
    check = lambda name: health.Check(health_pb2.HealthCheckRequest(service=name)).status  # noqa: E731
    assert check("") == health_pb2.HealthCheckResponse.SERVING
    assert check("oneiros.v1.Oneiros") == health_pb2.HealthCheckResponse.SERVING
    # No ready model serves Decode in this repository.
    assert check("oneiros.v1.Oneiros/Decode") == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.RpcError) as err:
        check("no.such.Service")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_services(serve, tmp_path):
    running = serve(tmp_path)
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"oneiros.v1.Oneiros", "grpc.health.v1.Health"} <= names


def test_shutdown_flips_health_and_refuses_new_calls(serve, tmp_path):
    running = serve(tmp_path)
    health = health_pb2_grpc.HealthStub(running.channel)
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    running.server.state.draining.set()
    running.server.health.enter_graceful_shutdown()
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Decode(pb.DecodeRequest(count=1))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in err.value.details()


def test_request_id_is_echoed(serve, tmp_path):
    running = serve(tmp_path)
    _, call = running.stub.ListModels.with_call(pb.ListModelsRequest(), metadata=(("x-request-id", "abc123"),))
    assert ("x-request-id", "abc123") in tuple(call.initial_metadata())

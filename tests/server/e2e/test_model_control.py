"""Models that come and go while serving, through a real server: control modes, the operators' API
over gRPC and HTTP, admin tokens, per-model health, a corrupt model beside good ones."""

from __future__ import annotations

import shutil

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from tests.latent_models import make_latent_model
from tests.waiting import wait_until

ADMIN = "operator-secret"
DECODE = pb.DecodeRequest(latents=[pb.Vector(values=[0.0] * 4)])


def admin_stub(running) -> oneiros_pb2_grpc.ModelRepositoryStub:
    return oneiros_pb2_grpc.ModelRepositoryStub(running.channel)


def bearer(token: str = ADMIN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def states(response: pb.RepositoryIndexResponse) -> dict[tuple[str, str], str]:
    return {(m.name, m.version): pb.ModelStatus.Name(m.status) for m in response.models}


def health(running, model: str) -> str:
    stub = health_pb2_grpc.HealthStub(running.channel)
    status = stub.Check(health_pb2.HealthCheckRequest(service=f"oneiros.v1.Oneiros/{model}"), timeout=5).status
    return health_pb2.HealthCheckResponse.ServingStatus.Name(status)


@pytest.fixture
def repo(tmp_path):
    make_latent_model(tmp_path, "a")
    make_latent_model(tmp_path, "b", default_for=(), seed=1)
    return tmp_path


def test_without_admin_tokens_the_service_is_not_served(serve, repo):
    running = serve(repo, model_control_mode="explicit")
    with pytest.raises(grpc.RpcError) as err:
        admin_stub(running).RepositoryIndex(pb.RepositoryIndexRequest(), metadata=bearer(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert (
        httpx.get(f"{running.http_url}/v1/repository/index", headers={"authorization": f"Bearer {ADMIN}"}).status_code
        == 404
    )


def test_in_none_mode_the_api_is_refused_naming_the_mode(serve, repo):
    running = serve(repo, admin_tokens=ADMIN)
    with pytest.raises(grpc.RpcError) as err:
        admin_stub(running).LoadModel(pb.LoadModelRequest(name="b"), metadata=bearer(), timeout=5)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "--model-control-mode none" in err.value.details()
    answer = httpx.post(f"{running.http_url}/v1/repository/models/b/load", headers={"authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 422 and "--model-control-mode none" in answer.json()["error"]["message"]


def test_admin_tokens_are_checked_and_a_refusal_changes_nothing(serve, repo):
    running = serve(repo, model_control_mode="explicit", load_model=["a"], admin_tokens=ADMIN, auth_tokens="caller")
    stub = admin_stub(running)
    for metadata, code in (
        (None, grpc.StatusCode.UNAUTHENTICATED),
        (bearer("caller"), grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.RpcError) as err:
            stub.LoadModel(pb.LoadModelRequest(name="b"), metadata=metadata, timeout=5)
        assert err.value.code() == code
    url = f"{running.http_url}/v1/repository/models/b/load"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"authorization": "Bearer wrong"}).status_code == 403
    index = stub.RepositoryIndex(pb.RepositoryIndexRequest(), metadata=bearer(), timeout=5)
    assert states(index) == {("a", "1"): "READY", ("b", "1"): "UNLOADED"}


def test_explicit_mode_through_both_transports(serve, repo):
    running = serve(repo, model_control_mode="explicit", load_model=["a"], admin_tokens=ADMIN)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Decode(pb.DecodeRequest(model="b", count=1), timeout=5)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "not loaded" in err.value.details()
    assert health(running, "a") == "SERVING"

    loaded = admin_stub(running).LoadModel(pb.LoadModelRequest(name="b"), metadata=bearer(), timeout=30)
    assert states(loaded) == {("b", "1"): "READY"}
    assert len(running.stub.Decode(pb.DecodeRequest(model="b", count=2), timeout=10).images) == 2
    assert health(running, "b") == "SERVING"

    headers = {"authorization": f"Bearer {ADMIN}"}
    answer = httpx.post(f"{running.http_url}/v1/repository/models/b/unload", headers=headers, timeout=30)
    assert answer.status_code == 200
    assert {m["status"] for m in answer.json()["models"]} <= {"UNLOADING", "UNLOADED"}
    assert wait_until(lambda: health(running, "b") == "NOT_SERVING", 10)
    index = httpx.get(f"{running.http_url}/v1/repository/index", headers=headers).json()
    assert {(m["name"], m["status"]) for m in index["models"]} == {("a", "READY"), ("b", "UNLOADED")}


def test_unloading_the_default_fails_unnamed_calls_clearly_until_it_is_back(serve, repo):
    running = serve(repo, model_control_mode="explicit", load_model=["a", "b"], admin_tokens=ADMIN)
    assert len(running.stub.Decode(pb.DecodeRequest(count=1), timeout=10).images) == 1
    admin_stub(running).UnloadModel(pb.UnloadModelRequest(name="a"), metadata=bearer(), timeout=30)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Decode(pb.DecodeRequest(count=1), timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "Decode" in err.value.details()
    assert len(running.stub.Decode(pb.DecodeRequest(model="b", count=1), timeout=10).images) == 1
    admin_stub(running).LoadModel(pb.LoadModelRequest(name="a"), metadata=bearer(), timeout=30)
    assert len(running.stub.Decode(pb.DecodeRequest(count=1), timeout=10).images) == 1


def test_poll_mode_follows_the_folder(serve, repo, tmp_path_factory):
    staging = tmp_path_factory.mktemp("staging")
    running = serve(repo, model_control_mode="poll", repository_poll_s=0.1)

    def served(model: str) -> str:
        try:
            info = running.stub.GetModel(pb.GetModelRequest(name=model), timeout=5)
        except grpc.RpcError:
            return ""
        return info.version if info.status == pb.READY else ""

    make_latent_model(staging, "c", seed=2, default_for=())
    shutil.copytree(staging / "c", repo / "c")  # a new model
    assert wait_until(lambda: served("c") == "1", 15)
    assert len(running.stub.Decode(pb.DecodeRequest(model="c", count=1), timeout=10).images) == 1
    make_latent_model(repo, "c", seed=3, default_for=(), version="2")  # a new version
    assert wait_until(lambda: served("c") == "2", 15)
    shutil.rmtree(repo / "c")  # removed
    assert wait_until(lambda: served("c") == "", 15)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Decode(pb.DecodeRequest(model="c", count=1), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_corrupt_model_beside_good_ones_is_unavailable_with_its_reason(serve, repo):
    (repo / "b" / "1" / "decoder.onnx").write_bytes(b"not an onnx file")
    running = serve(repo, model_control_mode="poll", repository_poll_s=0.1)
    info = running.stub.GetModel(pb.GetModelRequest(name="b"), timeout=5)
    assert info.status == pb.UNAVAILABLE and "sha256" in info.status_reason
    assert len(running.stub.Decode(pb.DecodeRequest(model="a", count=1), timeout=10).images) == 1
    assert health(running, "a") == "SERVING" and health(running, "b") == "NOT_SERVING"


def test_an_unloaded_model_gives_its_memory_back(serve, tmp_path):
    from oneiros_server.repository.memory import resident_bytes

    make_latent_model(tmp_path, "big", latent_size=16384, default_for=())  # two 51 MB weight matrices
    running = serve(tmp_path, model_control_mode="explicit", admin_tokens=ADMIN, grace_period_s=1)
    stub = admin_stub(running)

    def index() -> dict:
        return states(stub.RepositoryIndex(pb.RepositoryIndexRequest(), metadata=bearer(), timeout=5))

    def load_then_unload() -> tuple[int, int, int]:
        before = resident_bytes()
        stub.LoadModel(pb.LoadModelRequest(name="big"), metadata=bearer(), timeout=60)
        loaded = resident_bytes()
        stub.UnloadModel(pb.UnloadModelRequest(name="big"), metadata=bearer(), timeout=60)
        assert wait_until(lambda: index() == {("big", "1"): "UNLOADED"}, 10)
        return before, loaded, resident_bytes()

    load_then_unload()  # the first round reuses what making the model freed in this process
    before, loaded, after = load_then_unload()
    print(f"resident MB: before {before / 2**20:.0f}, loaded {loaded / 2**20:.0f}, unloaded {after / 2**20:.0f}")
    assert loaded - before > 90 * 2**20  # the weights were in memory
    assert after - before < 0.25 * (loaded - before)  # and went back to the system

"""Smaller hostile-input items of issue 10: metric labels, admission first, warm-up failures, top_k default."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request

import grpc
import pytest

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.convnet.engine import ConvNetEngine
from tests.conftest import REPO_ROOT
from tests.lm_tiny import tiny_lm_repository
from tests.server.hostile import png


@pytest.fixture
def vgg_repo(tmp_path):
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    return tmp_path


def _requests_series(port: int) -> set[str]:
    """The label sets of ``oneiros_requests_total`` (the registry is shared by every test in the process)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {line.split("}")[0] for line in body.splitlines() if line.startswith("oneiros_requests_total{")}


def test_metric_labels_come_from_the_repository_not_the_client(serve, tmp_path):
    shutil.copytree(tiny_lm_repository() / "tiny-lm", tmp_path / "tiny-lm")
    running = serve(tmp_path)
    before = _requests_series(running.server.metrics_port)
    for i in range(100):
        with pytest.raises(grpc.RpcError):
            running.stub.GetModel(pb.GetModelRequest(name=f"random-{i}"))
        with pytest.raises(grpc.RpcError):
            running.stub.Sample(pb.SampleRequest(model=f"random-{i}"))
    running.stub.GetModel(pb.GetModelRequest(name="tiny-lm"))
    series = _requests_series(running.server.metrics_port)
    assert not [line for line in series if "random-" in line]
    assert any('model="unknown"' in line and "NOT_FOUND" in line for line in series)
    assert any('model="tiny-lm"' in line and 'code="OK"' in line for line in series)
    assert len(series - before) <= 3  # 200 calls naming 200 models: one series per rpc and code


def test_a_full_pool_refuses_before_decoding_the_images(serve, vgg_repo):
    running = serve(vgg_repo, torch_threads=1, job_workers=1, job_queue_size=0)
    image = pb.Image(data=png(64, 64))
    stream = running.stub.DreamStream(pb.DreamRequest(image=image, steps_per_octave=500, octaves=1), timeout=120)
    assert next(stream).progress.step == 1  # the only worker is busy and nothing may queue
    garbage = pb.Image(data=b"not an image, and decoding it would be wasted work")
    for call, request in [
        (running.stub.Stylize, pb.StylizeRequest(content=garbage, style=garbage)),
        (running.stub.Dream, pb.DreamRequest(image=garbage)),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            call(request, timeout=30)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value.details()
    stream.cancel()


def test_a_model_whose_warm_up_fails_leaves_no_threads(serve, vgg_repo, monkeypatch):
    def broken(self):
        raise RuntimeError("warm-up failed")

    monkeypatch.setattr(ConvNetEngine, "warmup", broken)
    running = serve(vgg_repo, torch_threads=1, job_workers=2)
    (model,) = running.server.repository.models
    assert not model.ready and "RuntimeError" in model.reason
    assert not [t.name for t in threading.enumerate() if t.name.startswith("jobs-vgg19-imagenet")]


def test_the_manifests_top_k_default_is_used(serve, tmp_path):
    shutil.copytree(tiny_lm_repository() / "tiny-lm", tmp_path / "tiny-lm")
    manifest = tmp_path / "tiny-lm" / "1" / "model.json"
    data = json.loads(manifest.read_text())
    data["parameters"]["top_k"] = 1  # always the most likely token: seeds make no difference
    manifest.write_text(json.dumps(data))
    stub = serve(tmp_path).stub
    texts = {
        stub.Sample(pb.SampleRequest(prompt="And", max_tokens=20, temperature=1.5, seed=s)).completions[0].text
        for s in range(4)
    }
    greedy = stub.Sample(pb.SampleRequest(prompt="And", max_tokens=20, temperature=0.0)).completions[0].text
    assert texts == {greedy}
    widened = stub.Sample(pb.SampleRequest(prompt="And", max_tokens=20, temperature=1.5, seed=0, top_k=1000))
    assert widened.completions[0].text != greedy  # a request's own top_k still wins

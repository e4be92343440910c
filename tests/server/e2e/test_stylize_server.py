"""Stylize and StylizeStream end to end through a real server on port 0 (tiny images, few steps)."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.conftest import REPO_ROOT
from tests.grpc_helpers import field_violations

FAST = dict(
    style_layers={"block1_conv1": 10.0, "block2_conv1": 10.0}, content_layers=["block2_conv2"], steps=4, max_side=48
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    return tmp_path


def _png(width=48, height=40, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x * 255 // width, y * 255 // height, rng.integers(0, 255, (height, width))], -1)
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _request(**fields) -> pb.StylizeRequest:
    content = fields.pop("content", _png())
    style = fields.pop("style", _png(40, 40, seed=1))
    return pb.StylizeRequest(content=pb.Image(data=content), style=pb.Image(data=style), **(FAST | fields))


def _engine(running):
    return running.server.repository.resolve("", "Stylize").engine_set


def test_stylize_returns_image_losses_and_uses_the_cache(serve, repo):
    running = serve(repo, torch_threads=1)
    reply = running.stub.Stylize(_request(seed=3, tv_weight=1.0), timeout=60)
    image = Image.open(io.BytesIO(reply.image.data))
    assert image.format == "PNG" and image.size == (48, 40)
    assert len(reply.loss_history) == 4 and reply.loss_history[-1] < reply.loss_history[0]
    assert reply.content_loss > 0 and reply.style_loss > 0 and reply.tv_loss > 0
    # Each step reports the loss it started from; L-BFGS never raises it, so the final image is no worse.
    assert reply.loss_history[-1] >= (reply.content_loss + reply.style_loss + reply.tv_loss) * (1 - 1e-3)
    cache = _engine(running).stylizer.cache
    assert (cache.misses, cache.hits) == (1, 0)
    again = running.stub.Stylize(_request(content=_png(seed=5), output_format=pb.JPEG, steps=1), timeout=60)
    assert (cache.misses, cache.hits) == (1, 1)  # same style, same size: its Gram matrices were reused
    assert Image.open(io.BytesIO(again.image.data)).format == "JPEG"


def test_stream_reports_each_step_then_the_result(serve, repo):
    running = serve(repo, torch_threads=1)
    messages = list(running.stub.StylizeStream(_request(preview_every=2, preserve_color=True), timeout=60))
    progress = [m.progress for m in messages if m.WhichOneof("event") == "progress"]
    assert [p.step for p in progress] == [1, 2, 3, 4] and all(p.total_steps == 4 for p in progress)
    assert [p.HasField("preview") for p in progress] == [False, True, False, True]
    assert Image.open(io.BytesIO(progress[1].preview.data)).size == (48, 40)
    assert all(p.loss == pytest.approx(p.content_loss + p.style_loss + p.tv_loss, rel=1e-4) for p in progress)
    assert [p.loss for p in progress] == sorted((p.loss for p in progress), reverse=True)
    assert messages[-1].WhichOneof("event") == "result"
    assert list(messages[-1].result.loss_history) == pytest.approx([p.loss for p in progress])


def test_cancelled_stream_frees_the_job(serve, repo):
    running = serve(repo, torch_threads=1, job_workers=1, job_queue_size=0)
    call = running.stub.StylizeStream(_request(steps=500, max_side=64, content=_png(64, 64)), timeout=60)
    first = next(call)
    assert first.progress.step == 1
    with pytest.raises(grpc.RpcError) as busy:  # the only worker is taken and no queue: refused at once
        running.stub.Stylize(_request(), timeout=30)
    assert busy.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    call.cancel()
    jobs = _engine(running).jobs
    deadline = time.monotonic() + 20
    while jobs.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.active == 0 and jobs.stats.failed == 1  # stopped (Cancelled) well before step 500
    assert len(running.stub.Stylize(_request(steps=1), timeout=60).loss_history) == 1


BAD = [
    (dict(style_layers={"block9_conv9": 1.0}), "style_layers[block9_conv9]"),
    (dict(content_layers=["nope"]), "content_layers[0]"),
    (dict(style_weight=-1.0), "style_weight"),
    (dict(tv_weight=float("nan")), "tv_weight"),
    (dict(steps=10_000), "steps"),
    (dict(max_side=5000), "max_side"),
    (dict(style=b"not an image"), "style"),
    (dict(content=b""), "content"),
    (dict(optimizer=7), "optimizer"),
]


def test_bad_requests_name_the_field(serve, repo):
    running = serve(repo, torch_threads=1)
    for fields, field in BAD:
        with pytest.raises(grpc.RpcError) as err:
            running.stub.Stylize(_request(**fields), timeout=30)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field_violations(err.value) == [field]
        if "layers" in field:
            assert "block5_conv4" in err.value.details()  # the message lists the valid layers
    assert _engine(running).jobs.stats.submitted == 0  # refused before any work was queued


def test_deadline_stops_the_work(serve, repo):
    running = serve(repo, torch_threads=1)
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Stylize(_request(steps=1000, max_side=64, content=_png(64, 64)), timeout=1.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    jobs = _engine(running).jobs
    while jobs.active and time.monotonic() - started < 20:
        time.sleep(0.05)
    assert jobs.active == 0

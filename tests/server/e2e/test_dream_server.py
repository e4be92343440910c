"""Dream and DreamStream end to end through a real server on port 0 (tiny images, few steps)."""

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

FAST = dict(layer_weights={"block2_conv2": 1.0}, octaves=1, steps_per_octave=3, step_size=0.02)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    return tmp_path


def _png(width=48, height=40) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x * 255 // width, y * 255 // height, 128 + 0 * x], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def _request(**fields) -> pb.DreamRequest:
    return pb.DreamRequest(image=pb.Image(data=fields.pop("data", _png())), **(FAST | fields))


def _engine(running):
    return running.server.repository.resolve("", "Dream").engine_set


def test_dream_returns_image_and_rising_loss(serve, repo):
    running = serve(repo)
    reply = running.stub.Dream(_request(seed=3), timeout=60)
    image = Image.open(io.BytesIO(reply.image.data))
    assert image.format == "PNG" and image.size == (48, 40)
    assert len(reply.loss_history) == 3
    assert reply.loss_history[-1] > reply.loss_history[0]
    assert reply.elapsed_ms > 0
    info = running.stub.GetModel(pb.GetModelRequest(name="vgg19-imagenet"))
    assert "block5_conv4" in info.layers and info.kind == pb.CONVNET


def test_stream_sends_progress_previews_then_result(serve, repo):
    running = serve(repo)
    messages = list(running.stub.DreamStream(_request(preview_every=2, output_format=pb.JPEG), timeout=60))
    progress = [m.progress for m in messages if m.HasField("progress")]
    assert [p.step for p in progress] == [1, 2, 3] and {p.total_steps for p in progress} == {3}
    assert [p.HasField("preview") for p in progress] == [False, True, False]
    assert Image.open(io.BytesIO(progress[1].preview.data)).format == "JPEG"
    assert messages[-1].HasField("result") and len(messages) == 4
    assert list(messages[-1].result.loss_history) == pytest.approx([p.loss for p in progress])


BAD = [
    (b"not an image at all", {}, "image"),
    (b"", {}, "image"),
    (None, {"layer_weights": {"mixed4": 1.0}}, "layer_weights[mixed4]"),
    (None, {"steps_per_octave": 100_000}, "steps_per_octave"),
    (None, {"step_size": float("nan")}, "step_size"),
    (None, {"max_side": 100_000}, "max_side"),
]


def test_bad_requests_are_invalid_argument_naming_the_field(serve, repo):
    running = serve(repo)
    for data, fields, field in BAD:
        request = _request(**fields, **({} if data is None else {"data": data}))
        for call in (running.stub.Dream, lambda r, timeout: list(running.stub.DreamStream(r, timeout=timeout))):
            with pytest.raises(grpc.RpcError) as err:
                call(request, timeout=30)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert field_violations(err.value) == [field]
    assert _engine(running).jobs.stats.submitted == 0  # refused before queueing


def test_oversized_image_is_refused_before_decoding(serve, repo):
    running = serve(repo, max_image_pixels=1000)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Dream(_request(data=_png(64, 64)), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "limit" in err.value.details()


def test_full_queue_gives_resource_exhausted_and_cancel_frees_the_slot(serve, repo):
    running = serve(repo, job_workers=1, job_queue_size=0)
    jobs = _engine(running).jobs
    stream = running.stub.DreamStream(_request(steps_per_octave=500), timeout=120)
    first = next(stream)  # the job is running: one step done
    assert first.progress.step == 1 and jobs.active == 1
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Dream(_request(), timeout=30)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert time.monotonic() - started < 5
    stream.cancel()
    deadline = time.monotonic() + 20
    while jobs.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.active == 0 and jobs.queued == 0
    assert jobs.stats.completed == 0  # stopped, not finished
    assert len(running.stub.Dream(_request(), timeout=60).loss_history) == 3


def test_deadline_stops_the_job(serve, repo):
    running = serve(repo)
    jobs = _engine(running).jobs
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Dream(_request(steps_per_octave=500), timeout=1.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 20
    while jobs.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.active == 0

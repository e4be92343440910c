"""Dream and Stylize over HTTP (VGG19 backbone, tiny images, few steps): JSON, multipart uploads,
``Accept: image/png`` and progress streams equal to the gRPC ones."""

from __future__ import annotations

import io
import shutil

import httpx
import pytest
from google.protobuf import json_format
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.conftest import REPO_ROOT
from tests.server.e2e.test_dream_server import FAST as DREAM
from tests.server.e2e.test_dream_server import _png
from tests.server.e2e.test_stylize_server import FAST as STYLE
from tests.server.transport.http.helpers import b64, events


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", root / "vgg19-imagenet")
    return root


@pytest.fixture(scope="module")
def running(repo):
    # One server for the module (the backbone loads once), like the conftest fixture, on free ports.
    from oneiros_server.app import OneirosServer
    from oneiros_server.settings import Settings

    settings = Settings(host="127.0.0.1", port=0, http_port=0, metrics_port=-1, model_repository=repo, torch_threads=1)
    server = OneirosServer(settings)
    server.start()
    yield server
    server.stop(grace=0)


@pytest.fixture(scope="module")
def stub(running):
    import grpc

    from oneiros.v1 import oneiros_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield oneiros_pb2_grpc.OneirosStub(channel)


@pytest.fixture
def http(running):
    with httpx.Client(base_url=f"http://127.0.0.1:{running.http_port}", timeout=120) as client:
        yield client


def test_dream_json_multipart_and_png_agree_with_grpc(stub, http):
    image = _png()
    expected = stub.Dream(pb.DreamRequest(image=pb.Image(data=image), seed=3, **DREAM), timeout=120)
    body = {"image": {"data": b64(image)}, "seed": 3} | {
        "layerWeights": DREAM["layer_weights"],
        "octaves": 1,
        "stepsPerOctave": 3,
        "stepSize": 0.02,
    }
    reply = http.post("/v1/dream", json=body)
    assert reply.status_code == 200, reply.text
    assert json_format.ParseDict(reply.json(), pb.DreamResponse()).image == expected.image
    form = {"seed": "3", "layer_weights": '{"block2_conv2": 1.0}', "octaves": "1", "steps_per_octave": "3"}
    png = http.post(
        "/v1/dream",
        files={"image": ("in.png", image, "image/png")},
        data=form | {"step_size": "0.02"},
        headers={"accept": "image/png"},
    )
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == expected.image.data
    assert Image.open(io.BytesIO(png.content)).size == (48, 40)


def test_dream_stream_ends_with_the_grpc_result(stub, http):
    request = pb.DreamRequest(image=pb.Image(data=_png()), seed=3, preview_every=1, **DREAM)
    over_grpc = list(stub.DreamStream(request, timeout=120))
    with http.stream("POST", "/v1/dream/stream", json=json_format.MessageToDict(request)) as response:
        over_http = [json_format.Parse(data, pb.DreamProgress()) for _, data in events(response)]
    assert over_http[-1].result.image == over_grpc[-1].result.image
    assert list(over_http[-1].result.loss_history) == list(over_grpc[-1].result.loss_history)
    steps = [m.progress.step for m in over_http[:-1]]
    assert steps == sorted(steps) and steps[-1] == 3
    assert all(m.progress.HasField("preview") for m in over_http[:-1])


def test_stylize_multipart_and_stream(stub, http):
    content, style = _png(), _png(40, 40)
    request = pb.StylizeRequest(content=pb.Image(data=content), style=pb.Image(data=style), seed=1, **STYLE)
    expected = stub.Stylize(request, timeout=120)
    form = {
        "seed": "1",
        "style_layers": '{"block1_conv1": 10.0, "block2_conv1": 10.0}',
        "content_layers": "block2_conv2",
        "steps": "4",
        "max_side": "48",
    }
    files = {"content": ("c.png", content, "image/png"), "style": ("s.png", style, "image/png")}
    reply = http.post("/v1/stylize", files=files, data=form)
    assert reply.status_code == 200, reply.text
    assert json_format.ParseDict(reply.json(), pb.StylizeResponse()).image == expected.image
    with http.stream("POST", "/v1/stylize/stream", files=files, data=form) as response:
        messages = [json_format.Parse(data, pb.StylizeProgress()) for _, data in events(response)]
    assert messages[-1].result.image == expected.image
    missing = http.post("/v1/stylize", files={"content": ("c.png", content, "image/png")}, data=form)
    assert missing.status_code == 400 and "style" in missing.text

"""STYLE_NETWORK end to end: a tiny network trained in the test, exported, served over gRPC and HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf import json_format
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.grpc_helpers import field_violations
from tests.style_models import NAME, png, repository_copy


@pytest.fixture
def running(serve, tmp_path: Path):
    return serve(repository_copy(tmp_path))


def _stylize(running, **fields) -> pb.StylizeResponse:
    content = fields.pop("content", png(45, 37))
    return running.stub.Stylize(pb.StylizeRequest(model=NAME, content=pb.Image(data=content), **fields), timeout=60)


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_output_has_the_contents_size_even_when_not_a_multiple_of_4(running):
    for width, height in ((45, 37), (16, 16), (63, 50)):
        reply = _stylize(running, content=png(width, height))
        image = Image.open(io.BytesIO(reply.image.data))
        assert image.format == "PNG" and image.size == (width, height)
        assert not reply.loss_history and reply.elapsed_ms >= 0


def test_max_side_reduces_and_preserve_color_keeps_the_chroma(running):
    assert Image.open(io.BytesIO(_stylize(running, content=png(80, 60), max_side=40).image.data)).size == (40, 30)
    content = _pixels(png(45, 37)).astype(np.float32) / 255
    styled = _pixels(_stylize(running, preserve_color=True).image.data).astype(np.float32) / 255
    chroma = lambda rgb: rgb - (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]  # noqa: E731
    clipped = (styled <= 1 / 255).any(-1) | (styled >= 254 / 255).any(-1)
    assert np.abs(chroma(styled) - chroma(content))[~clipped].max() < 3 / 255
    plain = _pixels(_stylize(running).image.data).astype(np.float32) / 255
    assert np.abs(chroma(plain) - chroma(content)).max() > 10 / 255  # without it the colours do change


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(style=pb.Image(data=png(20, 20))), "style"),
        (dict(steps=5), "steps"),
        (dict(style_weight=2.0), "style_weight"),
        (dict(content_layers=["block4_conv2"]), "content_layers"),
        (dict(optimizer=pb.ADAM), "optimizer"),
        (dict(seed=1), "seed"),
        (dict(max_side=100_000), "max_side"),
    ],
)
def test_refuses_gatys_fields_and_a_style_image(running, fields, field):
    with pytest.raises(grpc.RpcError) as err:
        _stylize(running, **fields)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [field]


def test_stream_ends_with_the_same_image(running):
    request = pb.StylizeRequest(model=NAME, content=pb.Image(data=png(45, 37)), preview_every=1)
    messages = list(running.stub.StylizeStream(request, timeout=60))
    assert messages[-1].WhichOneof("event") == "result"
    assert messages[-1].result.image.data == _stylize(running).image.data


def test_gatys_still_needs_a_style_image(serve, tmp_path: Path):
    running = serve(repository_copy(tmp_path, with_vgg=True), torch_threads=1)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Stylize(pb.StylizeRequest(content=pb.Image(data=png(45, 37)), steps=1), timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field_violations(err.value) == ["style"]


def test_list_and_get_model_describe_the_style(running):
    listed = running.stub.ListModels(pb.ListModelsRequest(kind=pb.STYLE_NETWORK), timeout=10)
    assert [m.name for m in listed.models] == [NAME]
    info = running.stub.GetModel(pb.GetModelRequest(name=NAME), timeout=10)
    assert info.kind == pb.STYLE_NETWORK and info.status == pb.READY and info.runtime == "onnxruntime"
    assert info.architecture["painting"] == "A test painting (2026)"
    assert "A test painting (2026)" in info.description
    assert info.training["steps"] == 3


def test_http_route_serves_the_network_unchanged(running):
    import httpx

    content = png(45, 37)
    expected = _stylize(running, content=content).image.data
    with httpx.Client(base_url=f"http://127.0.0.1:{running.server.http_port}", timeout=60) as http:
        reply = http.post("/v1/stylize", files={"content": ("c.png", content, "image/png")}, data={"model": NAME})
        assert reply.status_code == 200
        assert json_format.ParseDict(reply.json(), pb.StylizeResponse()).image.data == expected
        refused = http.post(
            "/v1/stylize",
            files={"content": ("c.png", content, "image/png"), "style": ("s.png", content, "image/png")},
            data={"model": NAME},
        )
        assert refused.status_code == 400 and "style" in refused.text


def test_cli_stylizes_with_the_model_and_no_style_image(running, tmp_path: Path, capsys):
    from oneiros_client import cli

    photo, out = tmp_path / "photo.png", tmp_path / "out.png"
    photo.write_bytes(png(45, 37))
    assert cli.main(["-a", running.target, "stylize", str(photo), "--model", NAME, "-o", str(out), "-q"]) == 0
    assert Image.open(out).size == (45, 37) and "wrote" in capsys.readouterr().out
    assert cli.main(["-a", running.target, "stylize", str(photo), "-o", str(out), "-q"]) == 2  # neither

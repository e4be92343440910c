"""A new kind of model behind an existing RPC, added in this file: an engine, one registration,
a model.json; served end to end over gRPC and HTTP with no change to the dataplane or transports.

The toy kind GRADIENTS answers Decode with horizontal grey ramps: latent ``z`` (two numbers)
draws a ramp from ``z[0]`` to ``z[1]`` (each in [0, 1]). It takes the Decode family's request
type and answers its result type, which is all the converters know.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.base import EngineInfo
from oneiros_server.engines.latent.requests import DecodeRequest, LatentResult
from oneiros_server.engines.registry import default_registry
from oneiros_server.errors import FieldError
from oneiros_server.scheduling.control import CallControl

SIDE = 28


class GradientEngine:
    """The toy kind's engine set and its one engine (Decode)."""

    def __init__(self, manifest, version_dir: Path, settings):
        self.info = EngineInfo(latent_size=2, image_shape=(SIDE, SIDE, 1))
        self.engines = {"Decode": self}

    def validate(self, request: DecodeRequest) -> np.ndarray:
        if not request.latents:
            raise FieldError("latents", "give the ramps' ends, two numbers in [0, 1] each")
        z = np.asarray(request.latents, np.float32)
        if z.ndim != 2 or z.shape[1] != 2 or not np.all((z >= 0) & (z <= 1)):
            raise FieldError("latents", "each latent is two numbers in [0, 1]")
        return z

    def submit(self, z: np.ndarray, control: CallControl) -> AsyncIterator[LatentResult]:
        return self._draw(z)

    async def _draw(self, z: np.ndarray) -> AsyncIterator[LatentResult]:
        t = np.linspace(0.0, 1.0, SIDE, dtype=np.float32)  # (W,)
        rows = z[:, :1] + (z[:, 1:] - z[:, :1]) * t  # (N, W)
        pixels = np.broadcast_to(rows[:, None, :, None], (len(z), SIDE, SIDE, 1))
        yield LatentResult((pixels * 255 + 0.5).astype(np.uint8), z)

    def warmup(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    version = root / "ramps" / "1"
    version.mkdir(parents=True)
    manifest = {"name": "ramps", "version": "1", "kind": "GRADIENTS", "runtime": "numpy", "default_for": ["Decode"]}
    (version / "model.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture
def running(serve, repo):
    registry = default_registry()
    registry.register("GRADIENTS", GradientEngine, families=("Decode",))
    return serve(repo, registry=registry)


def _ramp(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_the_new_kind_is_listed_and_decodes_over_grpc(running):
    info = running.stub.GetModel(pb.GetModelRequest(name="ramps"))
    assert info.status == pb.READY and info.kind == pb.MODEL_KIND_UNSPECIFIED and info.runtime == "numpy"
    assert info.latent_size == 2 and list(info.image_shape) == [SIDE, SIDE, 1]
    reply = running.stub.Decode(pb.DecodeRequest(latents=[pb.Vector(values=[0, 1]), pb.Vector(values=[1, 0])]))
    up, down = (_ramp(image.data) for image in reply.images)
    assert up[0, 0] == 0 and up[0, -1] == 255 and down[0, 0] == 255 and down[0, -1] == 0
    assert (up == up[:1]).all()  # every row the same ramp


def test_the_new_kind_decodes_over_http_and_validates_once(running):
    url = f"{running.http_url}/v1/decode"
    reply = httpx.post(url, json={"model": "ramps", "latents": [{"values": [0.5, 0.5]}]}, timeout=10)
    assert reply.status_code == 200
    flat = _ramp(base64.b64decode(reply.json()["images"][0]["data"]))
    assert (flat == 128).all()
    bad = httpx.post(url, json={"model": "ramps", "latents": [{"values": [2, 0]}]}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "latents"


def test_an_unregistered_kind_is_unavailable_with_the_reason(serve, repo):
    running = serve(repo)  # the shipped kinds only
    info = running.stub.GetModel(pb.GetModelRequest(name="ramps"))
    assert info.status == pb.UNAVAILABLE and "GRADIENTS" in info.status_reason

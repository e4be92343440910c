"""A small repository holding one model of every kind, valid requests of every RPC, and trailer sizes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from tests.conftest import REPO_ROOT
from tests.latent_models import make_latent_model
from tests.lm_tiny import tiny_lm_repository

LATENT = 4
TRAILER_BUDGET = 8 * 1024  # every error must fit, well under gRPC's 16 KiB hard limit


def every_kind_repository(root: Path) -> Path:
    """tiny-vae (default for Decode/EditLatent), tiny-lm, and the shipped vgg19-imagenet."""
    make_latent_model(root, "tiny-vae", LATENT, default_for=("Decode", "EditLatent"))
    shutil.copytree(tiny_lm_repository() / "tiny-lm", root / "tiny-lm")
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", root / "vgg19-imagenet")
    return root


def png(width: int = 40, height: int = 36, mode: str = "RGB", seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "L": 1}[mode]
    array = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array[..., 0] if channels == 1 else array).save(buffer, "PNG")
    return buffer.getvalue()


def valid_requests() -> dict[str, object]:
    """One cheap valid request per RPC (RPC name -> request)."""
    image = pb.Image(data=png())
    return {
        "ListModels": pb.ListModelsRequest(),
        "GetModel": pb.GetModelRequest(name="tiny-vae"),
        "Sample": pb.SampleRequest(prompt="And", max_tokens=3, seed=1),
        "SampleStream": pb.SampleRequest(prompt="And", max_tokens=3, seed=1),
        "Dream": pb.DreamRequest(
            image=image, octaves=1, steps_per_octave=1, max_side=32, layer_weights={"block1_conv1": 1.0}
        ),
        "DreamStream": pb.DreamRequest(
            image=image, octaves=1, steps_per_octave=1, max_side=32, layer_weights={"block1_conv1": 1.0}
        ),
        "Stylize": pb.StylizeRequest(
            content=image,
            style=image,
            steps=1,
            max_side=32,
            style_layers={"block1_conv1": 1.0},
            content_layers=["block1_conv2"],
        ),
        "StylizeStream": pb.StylizeRequest(
            content=image,
            style=image,
            steps=1,
            max_side=32,
            style_layers={"block1_conv1": 1.0},
            content_layers=["block1_conv2"],
        ),
        "Decode": pb.DecodeRequest(latents=[pb.Vector(values=[0.0] * LATENT)]),
        "EditLatent": pb.EditLatentRequest(
            latent=pb.Vector(values=[0.0] * LATENT), edits=[pb.AttributeEdit(attribute="thickness", strength=1.0)]
        ),
    }


def call(stub, rpc: str, request, timeout: float = 60):
    """Run one RPC to the end (streams drained); returns the response or list of messages."""
    method = getattr(stub, rpc)
    if rpc.endswith("Stream"):
        return list(method(request, timeout=timeout))
    return method(request, timeout=timeout)


def trailer_bytes(err: grpc.RpcError) -> int:
    """What the error cost on the wire: the status message plus every trailing metadata entry."""
    size = len((err.details() or "").encode())
    for key, value in err.trailing_metadata() or ():
        size += len(key) + len(value if isinstance(value, bytes) else value.encode())
    return size

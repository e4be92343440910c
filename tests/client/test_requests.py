"""Request building and response conversion, against the fake server."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_client import (
    Client,
    Grid,
    make_grid,
)
from tests.client.fake_oneiros import LATENT, png


def test_unset_optionals_stay_unset(client, fake):
    client.sample("In the beginning")
    req = fake.requests[-1]
    assert not req.HasField("temperature") and not req.HasField("top_p") and not req.HasField("seed")
    client.sample("x", temperature=0.0, top_p=0.9, seed=0, stop=["\n"], top_k=3, max_tokens=7, n=2, model="m")
    req = fake.requests[-1]
    assert req.HasField("temperature") and req.temperature == 0.0
    assert req.HasField("seed") and req.seed == 0
    assert req.top_p == pytest.approx(0.9) and list(req.stop) == ["\n"]
    assert (req.top_k, req.max_tokens, req.n, req.model) == (3, 7, 2, "m")


def test_sample_completions_sorted_by_index(client):
    completions = client.sample("x", n=3)
    assert [c.index for c in completions] == [0, 1, 2]
    assert completions[0].finish_reason == "LENGTH" and completions[0].mean_entropy_bits == 1.5


def test_decode_modes_and_conversion(client, fake):
    result = client.decode(grid=Grid(0, 1, steps=3, extent=1.5))
    req = fake.requests[-1]
    assert req.HasField("grid") and (req.grid.axis_x, req.grid.axis_y, req.grid.steps) == (0, 1, 3)
    assert req.grid.extent == pytest.approx(1.5) and not req.HasField("seed")
    assert len(result.images) == 9 and all(isinstance(im, Image.Image) for im in result.images)
    assert result.latents.shape == (9, LATENT) and result.latents.dtype == np.float32

    client.decode(count=4, seed=7)
    req = fake.requests[-1]
    assert req.count == 4 and req.HasField("seed") and req.seed == 7 and not req.HasField("grid")

    z = np.arange(2 * LATENT, dtype=np.float64).reshape(2, LATENT)
    result = client.decode(z, output_format="jpeg")
    req = fake.requests[-1]
    assert [list(v.values) for v in req.latents] == z.tolist() and req.output_format == pb.JPEG
    assert len(result.images) == 2
    client.decode(z[0])
    assert len(fake.requests[-1].latents) == 1


def test_edit_latent_request_mapping(client, fake, tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(png(128))
    result = client.edit_latent(path, edits={"thickness": 1.5, "digit_3": -1.0})
    req = fake.requests[-1]
    assert req.WhichOneof("source") == "image" and req.image.data == png(128)
    assert [(e.attribute, e.strength) for e in req.edits] == [("thickness", 1.5), ("digit_3", -1.0)]
    assert req.WhichOneof("target") is None and not req.HasField("direction")
    assert result.source_latent.tolist() == [1.0, 2.0, 3.0, 4.0]

    client.edit_latent(latent=[0.0] * LATENT, sweep_attribute="thickness", strengths=[-2, 0, 2])
    req = fake.requests[-1]
    assert req.WhichOneof("source") == "latent" and req.sweep_attribute == "thickness"
    assert list(req.strengths) == [-2.0, 0.0, 2.0]

    array = np.full((28, 28), 0.5, dtype=np.float32)
    result = client.edit_latent(array, target_latent=np.ones(LATENT), interpolation_steps=5, interpolation="SLERP")
    req = fake.requests[-1]
    assert Image.open(io.BytesIO(req.image.data)).getpixel((0, 0)) == 128
    assert req.WhichOneof("target") == "target_latent" and req.interpolation == pb.SLERP
    assert len(result.images) == 5 and result.latents.shape == (5, LATENT)

    with pytest.raises(ValueError):
        client.edit_latent(array, latent=[0.0] * LATENT)


def test_models_and_model(client):
    models = client.models()
    assert [m.name for m in models] == ["vae-mnist-2d", "char-kjv"]
    assert models[0].kind == "VAE" and models[0].ready and models[0].metrics == {"neg_elbo_nats": 140.5}
    assert models[1].status == "UNAVAILABLE" and models[1].status_reason == "sha256 mismatch"
    info = client.model("vae-mnist-2d")
    assert info.image_shape == (28, 28, 1) and info.default_parameters == {"extent": 2.0}


def test_health_codec(client):
    assert client.health() == "SERVING"
    assert client.health("oneiros.v1.Oneiros") == "NOT_SERVING"


def test_token_sent_as_bearer_metadata(fake):
    with Client(fake.target, token="s3cret") as c:
        c.models()
    assert fake.metadata[-1]["authorization"] == "Bearer s3cret"


def test_make_grid_layout():
    tiles = [Image.new("L", (4, 4), v) for v in (0, 100, 200)]
    grid = make_grid(tiles, cols=2, padding=1, scale=2)
    assert grid.size == (2 * 8 + 3, 2 * 8 + 3)
    assert grid.getpixel((1 + 8 + 1, 1)) == 100 and grid.getpixel((1, 1 + 8 + 1)) == 200

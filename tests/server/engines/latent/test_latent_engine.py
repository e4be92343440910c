"""The latent engine without a server: sampling, grids, edits, interpolation, validation, batching."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oneiros_server.engines.base import last_event, run_to_result
from oneiros_server.engines.latent.engine import load
from oneiros_server.engines.latent.images import to_digit
from oneiros_server.engines.latent.requests import AttributeEdit, DecodeRequest, EditRequest, Grid
from oneiros_server.engines.latent.vectors import interpolate
from oneiros_server.errors import FieldError, WrongModelKind
from oneiros_server.repository.manifest import Manifest
from oneiros_server.scheduling.control import CallControl
from oneiros_server.settings import Settings
from tests.latent_models import make_latent_model

D = 4


def _engine(folder: Path, **overrides):
    settings = Settings(model_repository=folder.parent.parent, metrics_port=-1, **overrides)
    manifest = Manifest.model_validate(json.loads((folder / "model.json").read_text()))
    engine = load(manifest, folder, settings)
    engine.warmup()
    return engine


def decode(engine, request: DecodeRequest):
    return run_to_result(engine.engines["Decode"], request)


def edit(engine, request: EditRequest):
    return run_to_result(engine.engines["EditLatent"], request)


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory):
    return make_latent_model(tmp_path_factory.mktemp("repo"), latent_size=D)


@pytest.fixture(scope="module")
def engine(vae_dir):
    engine = _engine(vae_dir, max_images_per_request=64)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def gan(tmp_path_factory):
    engine = _engine(make_latent_model(tmp_path_factory.mktemp("repo"), "tiny-gan", D, kind="GAN"))
    yield engine
    engine.close()


def test_info(engine):
    assert engine.info.latent_size == D and engine.info.image_shape == (28, 28, 1)
    assert "thickness" in engine.info.attributes and "digit_3" in engine.info.attributes


def test_prior_samples_are_reproducible_with_a_seed(engine):
    a = decode(engine, DecodeRequest(count=5, seed=7))
    b = decode(engine, DecodeRequest(count=5, seed=7))
    c = decode(engine, DecodeRequest(count=5, seed=8))
    assert a.images.shape == (5, 28, 28, 1) and a.images.dtype == np.uint8
    assert a.latents.shape == (5, D)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.latents, c.latents)
    seedless = [decode(engine, DecodeRequest(count=2)).latents for _ in range(2)]
    assert not np.array_equal(*seedless)


def test_decode_latents_round_trip(engine):
    z = np.random.default_rng(0).standard_normal((3, D)).astype(np.float32)
    result = decode(engine, DecodeRequest(latents=z.tolist()))
    np.testing.assert_array_equal(result.latents, z)
    assert len({img.tobytes() for img in result.images}) == 3


def test_grid_covers_two_axes_row_major(engine):
    result = decode(engine, DecodeRequest(grid=Grid(axis_x=2, axis_y=0, steps=3, extent=1.5)))
    z = result.latents.reshape(3, 3, D)
    assert result.images.shape == (9, 28, 28, 1)
    np.testing.assert_allclose(z[0, :, 2], [-1.5, 0, 1.5])  # x grows along a row
    np.testing.assert_allclose(z[:, 0, 0], [1.5, 0, -1.5])  # y grows upwards
    assert np.all(z[..., [1, 3]] == 0)
    default = decode(engine, DecodeRequest(grid=Grid(axis_x=0, axis_y=1)))
    assert len(default.images) == 64 and default.latents.max() == pytest.approx(2.0)


@pytest.mark.parametrize("kind", ["LERP", "SLERP"])
def test_interpolation_includes_both_ends(engine, kind):
    a, b = np.array([1.0, 0, 0, 0]), np.array([0, 2.0, 0, 0])
    result = edit(
        engine, EditRequest(latent=a.tolist(), target_latent=b.tolist(), interpolation_steps=5, interpolation=kind)
    )
    assert result.latents.shape == (5, D)
    np.testing.assert_array_equal(result.latents[0], a)
    np.testing.assert_array_equal(result.latents[-1], b)
    mid = result.latents[2]
    if kind == "LERP":
        np.testing.assert_allclose(mid, (a + b) / 2, atol=1e-6)
    else:  # the great-circle midpoint: equal weights sin(w/2)/sin(w) with w = 90 degrees
        np.testing.assert_allclose(mid, (a + b) * np.sin(np.pi / 4), atol=1e-6)


def test_slerp_of_parallel_points_falls_back_to_lerp():
    a = np.array([1.0, 1.0], np.float32)
    path = interpolate(a, 3 * a, 3, "SLERP")
    np.testing.assert_allclose(path[1], 2 * a)


def test_edits_sum_and_sweep_follows_strengths(engine, vae_dir):
    spec = json.loads((vae_dir / "model.json").read_text())["spec"]["attributes"]
    z0 = np.zeros(D, np.float32)
    one = edit(
        engine, EditRequest(latent=z0.tolist(), edits=[AttributeEdit("thickness", 2.0), AttributeEdit("digit_3", -1.0)])
    )
    expected = 2.0 * np.array(spec["thickness"]) - np.array(spec["digit_3"])
    np.testing.assert_allclose(one.latents[0], expected, atol=1e-5)
    np.testing.assert_array_equal(one.source_latent, z0)
    sweep = edit(engine, EditRequest(latent=z0.tolist(), sweep_attribute="slant", strengths=[-1, 0, 1, 2]))
    np.testing.assert_allclose(sweep.latents, np.outer([-1, 0, 1, 2], spec["slant"]), atol=1e-5)
    raw = edit(engine, EditRequest(latent=z0.tolist(), direction=[0, 1, 0, 0], strengths=[0.5]))
    np.testing.assert_allclose(raw.latents, [[0, 0.5, 0, 0]])


def test_image_source_is_encoded(engine):
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    result = edit(engine, EditRequest(image=Image.fromarray(digit)))
    assert result.source_latent.shape == (D,) and np.any(result.source_latent != 0)
    paper = Image.fromarray(255 - digit).resize((140, 140)).convert("RGB")  # dark ink on white, larger
    np.testing.assert_allclose(edit(engine, EditRequest(image=paper)).source_latent, result.source_latent, atol=0.2)


def test_image_conversion_keeps_mnist_and_inverts_paper():
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1.0
    np.testing.assert_array_equal(to_digit(digit)[..., 0], digit)
    paper = to_digit(Image.fromarray((255 * (1 - digit)).astype(np.uint8)).convert("RGBA"))
    assert paper[..., 0][14, 14] > 0.9 and paper[..., 0][1, 1] == 0.0


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (DecodeRequest(), "latents"),
        (DecodeRequest(latents=[[0.0] * D], count=2), "count"),
        (DecodeRequest(latents=[[0.0] * D, [0.0] * (D + 1)]), "latents[1]"),
        (DecodeRequest(latents=[[0.0, float("nan"), 0.0, 0.0]]), "latents[0]"),
        (DecodeRequest(latents=[[0.0, 0.0, float("inf"), 0.0]]), "latents[0]"),
        (DecodeRequest(latents=[[1e9, 0.0, 0.0, 0.0]]), "latents[0]"),
        (DecodeRequest(count=65), "count"),
        (DecodeRequest(grid=Grid(axis_x=D, axis_y=0)), "grid.axis_x"),
        (DecodeRequest(grid=Grid(axis_x=1, axis_y=1)), "grid.axis_y"),
        (DecodeRequest(grid=Grid(steps=9)), "grid.steps"),
        (DecodeRequest(grid=Grid(steps=1)), "grid.steps"),
        (DecodeRequest(grid=Grid(extent=float("nan"))), "grid.extent"),
        (EditRequest(), "source"),
        (EditRequest(latent=[0.0] * (D - 1)), "latent"),
        (
            EditRequest(latent=[0.0] * D, edits=[AttributeEdit("thickness", 1), AttributeEdit("smile", 1)]),
            "edits[1].attribute",
        ),
        (EditRequest(latent=[0.0] * D, edits=[AttributeEdit("thickness", float("nan"))]), "edits[0].strength"),
        (EditRequest(latent=[0.0] * D, sweep_attribute="smile", strengths=[1]), "sweep_attribute"),
        (EditRequest(latent=[0.0] * D, direction=[1.0] * D), "strengths"),
        (EditRequest(latent=[0.0] * D, strengths=[1.0]), "strengths"),
        (EditRequest(latent=[0.0] * D, direction=[1.0] * D, strengths=[0.0] * 65), "strengths"),
        (EditRequest(latent=[0.0] * D, direction=[1.0] * 2, strengths=[1.0]), "direction"),
        (EditRequest(latent=[0.0] * D, target_latent=[0.0] * D, interpolation_steps=1), "interpolation_steps"),
        (EditRequest(latent=[0.0] * D, target_latent=[0.0] * D, interpolation_steps=65), "interpolation_steps"),
        (EditRequest(latent=[0.0] * D, target_latent=[float("nan")] * D), "target_latent"),
        (EditRequest(latent=[0.0] * D, interpolation_steps=4), "interpolation_steps"),
    ],
)
def test_validation_names_the_field(engine, request_, field):
    with pytest.raises(FieldError) as info:
        (decode if isinstance(request_, DecodeRequest) else edit)(engine, request_)
    assert info.value.field == field
    if field.endswith("attribute"):
        assert "thickness" in info.value.message  # lists the valid names


def test_gan_decodes_but_refuses_image_sources(gan):
    assert decode(gan, DecodeRequest(count=2, seed=0)).images.shape == (2, 28, 28, 1)
    path = edit(gan, EditRequest(latent=[0.0] * D, target_latent=[1.0] * D, interpolation_steps=3))
    assert path.latents.shape == (3, D)
    with pytest.raises(WrongModelKind, match="latent"):
        edit(gan, EditRequest(image=np.zeros((28, 28), np.uint8)))
    with pytest.raises(WrongModelKind):
        edit(gan, EditRequest(latent=[0.0] * D, target_image=np.zeros((28, 28), np.uint8)))


def test_concurrent_calls_are_coalesced(vae_dir):
    engine = _engine(vae_dir, batch_max_size=64)
    decoder = engine.engines["Decode"]
    clients = 16

    async def one(i: int):
        params = decoder.validate(DecodeRequest(latents=[[float(i)] * D]))
        return await last_event(decoder.submit(params, CallControl()))

    async def all_at_once():
        return await asyncio.gather(*(one(i) for i in range(clients)))

    try:
        before = engine.decoder.calls
        results = asyncio.run(all_at_once())
        runs = engine.decoder.calls - before
        assert runs < clients / 2, f"{clients} concurrent calls took {runs} runtime runs"
        for i in range(clients):  # each caller got its own rows back
            np.testing.assert_array_equal(results[i].latents, [[float(i)] * D])
            alone = decode(engine, DecodeRequest(latents=[[float(i)] * D]))
            np.testing.assert_array_equal(results[i].images, alone.images)
    finally:
        engine.close()


def test_without_batching_each_call_runs_alone(vae_dir):
    engine = _engine(vae_dir, batching=False)
    before = engine.decoder.calls
    decode(engine, DecodeRequest(count=3, seed=1))
    assert engine.decoder.calls == before + 1 and engine.decoder_batcher is None
    engine.close()

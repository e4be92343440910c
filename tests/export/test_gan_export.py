"""Train a tiny GAN on a few thousand MNIST digits, export it, serve it through the latent engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from oneiros_export.gan import export_gan
from oneiros_export.onnx_utils import session
from oneiros_export.vae import PARITY_TOLERANCE
from oneiros_server.engines.base import run_to_result
from oneiros_server.engines.latent.engine import load
from oneiros_server.engines.latent.requests import DecodeRequest, EditRequest
from oneiros_server.errors import WrongModelKind
from oneiros_server.repository.manifest import Manifest
from oneiros_server.settings import Settings
from oneiros_training.gan import GANConfig, train_gan
from tests.latent_models import mnist_subset, tiny_classifier


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.set_num_threads(1)
    data = mnist_subset()
    cfg = GANConfig(latent_dim=8, width=8, critic_width=8)
    gen, record = train_gan(data["train"], cfg, steps=150, batch_size=32, lr_g=1e-3, lr_d=2e-3, progress=False)
    out = tmp_path_factory.mktemp("models") / "tiny-gan" / "1"
    # A 150-step generator saturates beyond |strength| 1, so the tiny check sweeps [-1, 1].
    manifest = export_gan(
        gen,
        cfg,
        record,
        tiny_classifier(),
        data["test"],
        out,
        "tiny-gan",
        ["Decode"],
        samples=1000,
        exporter="torchscript",
        strengths=[-1.0, -0.5, 0.0, 0.5, 1.0],
    )
    return manifest, out, gen


def test_manifest_and_parity(exported):
    manifest, out, gen = exported
    assert Manifest.model_validate(json.loads((out / "model.json").read_text())) == manifest
    assert manifest.kind == "GAN" and set(manifest.files) == {"generator"}
    assert manifest.spec["prior"] == "standard_normal" and manifest.spec["latent_size"] == 8
    assert manifest.metrics["parity_max_abs_error"] <= PARITY_TOLERANCE
    z = torch.randn(23, 8)
    with torch.no_grad():
        expected = gen(z).permute(0, 2, 3, 1).numpy()
    got = session(out / "generator.onnx").run(None, {"latent": z.numpy()})[0]
    assert np.abs(got - expected).max() <= PARITY_TOLERANCE
    for key in (
        "sample_class_entropy_bits",
        "sample_inception_score",
        "sample_mean_confidence",
        "sample_frechet_distance",
        "test_digits_inception_score",
    ):
        assert np.isfinite(manifest.metrics[key])
    assert manifest.metrics["test_digits_inception_score"] > manifest.metrics["sample_inception_score"]


def test_attribute_check(exported):
    manifest, *_ = exported
    check = manifest.spec["attribute_check"]
    assert check["sweeps"]["thickness"]["monotone"], check["sweeps"]["thickness"]
    classes = {k: v for k, v in check["classes"].items() if not isinstance(v, list)}
    assert classes["mean_prob_after"] > classes["mean_prob_before"], classes
    assert classes["classes_raised"] >= 0.7 * classes["classes"], classes


def test_served_by_the_latent_engine(exported):
    manifest, out, _ = exported
    engine = load(manifest, out, Settings(model_repository=out.parent.parent, metrics_port=-1))
    try:
        engine.warmup()
        a = run_to_result(engine.engines["Decode"], DecodeRequest(count=4, seed=3))
        assert a.images.shape == (4, 28, 28, 1)
        np.testing.assert_array_equal(
            a.images, run_to_result(engine.engines["Decode"], DecodeRequest(count=4, seed=3)).images
        )
        sweep = run_to_result(
            engine.engines["EditLatent"], EditRequest(latent=[0.0] * 8, sweep_attribute="thickness", strengths=[0, 1])
        )
        assert sweep.latents.shape == (2, 8)
        with pytest.raises(WrongModelKind):
            run_to_result(engine.engines["EditLatent"], EditRequest(image=np.zeros((28, 28), np.uint8)))
    finally:
        engine.close()

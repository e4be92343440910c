"""Exporting a style network: any size through ONNX Runtime, model.json, version numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from oneiros_export.onnx_utils import session
from oneiros_export.style_net import export_style_net, load_network, next_version
from oneiros_server.repository.manifest import sha256_file
from tests.style_models import NAME, tiny_style_repository, tiny_style_run


def test_onnx_takes_any_batch_and_size_that_is_a_multiple_of_4():
    version = tiny_style_repository() / NAME / "1"
    net, _ = load_network(tiny_style_run() / "run" / "final.pt")
    sess = session(version / "model.onnx")
    for shape in ((1, 3, 16, 16), (3, 3, 40, 28), (2, 3, 64, 100)):
        x = torch.rand(*shape)
        with torch.no_grad():
            expected = net(x).numpy()
        got = sess.run(None, {"content": x.numpy()})[0]
        assert got.shape == shape and np.abs(got - expected).max() < 1e-4


def test_model_json_names_the_painting_and_hashes_every_file():
    version = tiny_style_repository() / NAME / "1"
    manifest = json.loads((version / "model.json").read_text())
    assert manifest["kind"] == "STYLE_NETWORK" and manifest["runtime"] == "onnxruntime"
    assert manifest["spec"]["painting"] == {"file": "painting.png", "title": "A test painting (2026)"}
    for ref in manifest["files"].values():
        assert sha256_file(version / ref["path"]) == ref["sha256"]
    assert manifest["training"]["steps"] == 3 and "oneiros_training.style_train" in manifest["training"]["command"]


def test_a_second_export_is_the_next_version(tmp_path):
    run = tiny_style_run()
    assert next_version(tmp_path, "style-new") == "1"
    first = export_style_net(run / "run" / "final.pt", run / "painting.png", tmp_path, "style-new")
    second = export_style_net(run / "run" / "final.pt", run / "painting.png", tmp_path, "style-new")
    assert (first.name, second.name) == ("1", "2")


def test_quality_scores_network_gatys_and_photo_into_model_json(tmp_path):
    import shutil

    from oneiros_export.style_quality import gallery, measure, write_quality

    version = tmp_path / NAME / "1"
    shutil.copytree(tiny_style_repository() / NAME / "1", version)
    result = measure(version, 1, 32, ["coffee", "rocket"], tmp_path / "gatys", 1, gatys_photos=["coffee"])
    metrics = write_quality(version, result)
    assert metrics["photo_style_loss"] > 0 and metrics["gatys1_style_loss"] > 0
    coffee, rocket = json.loads((version / "model.json").read_text())["spec"]["quality"]["photos"]
    assert coffee["photo_content"] == 0 and "gatys_style" in coffee and "gatys_style" not in rocket
    assert metrics["style_loss_vs_gatys1_mean"] == pytest.approx(
        coffee["network_style"] / coffee["gatys_style"], rel=1e-3
    )
    gallery(result, tmp_path / "gallery.jpg")
    assert (tmp_path / "gallery.jpg").stat().st_size > 0
    assert list((tmp_path / "gatys").rglob("*.png"))  # Gatys' output is cached for the next run

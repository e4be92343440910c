"""DeepDream engine on the real VGG19 weights, tiny images, few steps (no server)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from oneiros_server.engines.convnet.dream import (
    DreamParams,
    default_dream_params,
    dream_loss,
    run_dream,
    validate_dream,
)
from oneiros_server.errors import Cancelled, FieldError
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import LAYER_NAMES, load_vgg19
from oneiros_server.scheduling.control import CallControl

CPU = torch.device("cpu")
SMALL = {"block3_conv2": 1.0}  # shallow: cheap on a 48 px image


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    return load_vgg19(None, CPU)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A smooth 48x64 test card: gradients and a disc, float32 in [0, 1]."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    disc = ((y - 24) ** 2 + (x - 30) ** 2 < 150).astype(np.float32)
    return np.stack([x / 63, y / 47, 0.3 + 0.5 * disc], axis=-1)


NO_JITTER = default_dream_params({"jitter": 0})  # zero fields take these defaults


def _dream(backbone, image, emit=None, control=None, precision=None, **fields):
    fields = {"layer_weights": SMALL, "octaves": 1, "steps_per_octave": 4, "step_size": 0.01, **fields}
    params = validate_dream(DreamParams(image, **fields), NO_JITTER, backbone.layer_names, 1024, 2000)
    return run_dream(
        backbone, params, control or CallControl(), emit or (lambda event: None), device=CPU, precision=precision
    )


def test_layer_names_follow_the_chapter(backbone):
    assert backbone.layer_names[0] == "block1_conv1"
    assert "block5_conv4" in backbone.layer_names and "block3_pool" in backbone.layer_names
    out = backbone(torch.rand(1, 3, 32, 32), ["block1_conv2", "block2_pool"])
    assert out["block1_conv2"].shape == (1, 64, 32, 32) and out["block2_pool"].shape == (1, 128, 8, 8)
    assert out["block1_conv2"].min() >= 0  # after the ReLU
    assert not any(p.requires_grad for p in backbone.parameters())


def test_loss_rises_step_by_step(backbone, photo):
    result = _dream(backbone, photo, steps_per_octave=5)
    losses = result.loss_history
    assert len(losses) == 5 and all(math.isfinite(v) for v in losses)
    assert all(b > a for a, b in zip(losses, losses[1:])), losses
    assert result.image.shape == photo.shape and 0 <= result.image.min() and result.image.max() <= 1
    assert np.abs(result.image - photo).mean() > 0.005  # the picture changed


def test_bf16_objective_is_within_3_percent_of_fp32(backbone, photo):
    """Equal steps in both precisions; each final image's objective measured in float32."""
    weights = {"block2_conv2": 1.0, "block3_conv2": 1.0}
    scores, rises = {}, {}
    for name in ("fp32", "bf16"):
        result = _dream(backbone, photo, precision=Precision(name, "cpu"), layer_weights=weights, steps_per_octave=6)
        x = torch.from_numpy(result.image).permute(2, 0, 1)[None]  # (1, 3, H, W)
        with torch.no_grad():
            scores[name] = float(dream_loss(backbone(x, weights), weights, 2))
        rises[name] = result.loss_history[-1] / result.loss_history[0]
    assert rises["fp32"] > 1.5  # the objective rose: there is something to compare
    assert abs(scores["bf16"] - scores["fp32"]) <= 0.03 * scores["fp32"], scores


def test_octaves_and_detail_reinjection(backbone, photo):
    events = []
    result = _dream(
        backbone, photo, emit=events.append, octaves=2, octave_scale=1.3, steps_per_octave=2, preview_every=3
    )
    assert [(e.octave, e.step, e.total_steps) for e in events] == [(0, 1, 4), (0, 2, 4), (1, 3, 4), (1, 4, 4)]
    assert [e.preview is not None for e in events] == [False, False, True, False]
    assert result.image.shape == photo.shape  # the last octave is the working size


def test_same_seed_same_image(backbone, photo):
    a = _dream(backbone, photo, jitter=4, steps_per_octave=2, seed=7)
    b = _dream(backbone, photo, jitter=4, steps_per_octave=2, seed=7)
    c = _dream(backbone, photo, jitter=4, steps_per_octave=2, seed=8)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.loss_history == b.loss_history
    assert not np.array_equal(a.image, c.image)


def test_max_loss_stops_each_octave_early(backbone, photo):
    result = _dream(backbone, photo, octaves=2, steps_per_octave=5, max_loss=0.0)
    assert len(result.loss_history) == 2  # one step per octave, then over the limit


def test_max_side_caps_the_working_size(backbone, photo):
    result = _dream(backbone, photo, max_side=40, steps_per_octave=1)
    assert result.image.shape == (32, 40, 3)  # 48x64 -> longest side 40, the short side floored at 32


def test_cancel_stops_the_loop(backbone, photo):
    control = CallControl()

    def emit(event):
        if event.step == 2:
            control.cancel()

    with pytest.raises(Cancelled):
        _dream(backbone, photo, emit=emit, control=control, steps_per_octave=50)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"layer_weights": {"mixed4": 1.0}}, "layer_weights[mixed4]"),
        ({"layer_weights": {"block4_conv1": float("nan")}}, "layer_weights[block4_conv1]"),
        ({"layer_weights": {"block4_conv1": 0.0}}, "layer_weights"),
        ({"octaves": 11}, "octaves"),
        ({"octave_scale": 0.5}, "octave_scale"),
        ({"octave_scale": float("inf")}, "octave_scale"),
        ({"steps_per_octave": 1000, "octaves": 3}, "steps_per_octave"),
        ({"step_size": float("nan")}, "step_size"),
        ({"step_size": -0.1}, "step_size"),
        ({"max_loss": float("inf")}, "max_loss"),
        ({"jitter": 1000}, "jitter"),
        ({"max_side": 5000}, "max_side"),
        ({"image": np.zeros((16, 64, 3), np.float32)}, "image"),
    ],
)
def test_validation_names_the_field(photo, fields, field):
    params = DreamParams(**({"image": photo} | fields))
    with pytest.raises(FieldError) as err:
        validate_dream(params, default_dream_params({}), LAYER_NAMES, max_side_limit=1024, max_steps=2000)
    assert err.value.field == field


def test_unknown_layer_message_lists_the_valid_ones(photo):
    with pytest.raises(FieldError) as err:
        validate_dream(DreamParams(photo, {"mixed4": 1.0}), default_dream_params({}), LAYER_NAMES, 1024, 2000)
    assert "block5_conv4" in err.value.message and "block1_conv1" in err.value.message


def test_zero_fields_take_the_model_defaults(photo):
    defaults = default_dream_params({"octaves": 2, "steps_per_octave": 7, "layer_weights": {"block5_conv1": 2.0}})
    p = validate_dream(DreamParams(photo), defaults, LAYER_NAMES, 1024, 2000)
    assert (p.octaves, p.steps_per_octave, p.layer_weights) == (2, 7, {"block5_conv1": 2.0})

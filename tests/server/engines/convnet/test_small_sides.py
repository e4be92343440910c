"""Small working sides reach every layer they accept; Stylize progress reports where each step starts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oneiros_server.engines.convnet.dream import DreamParams, default_dream_params, run_dream, validate_dream
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams
from oneiros_server.engines.language_model.reach import min_side
from oneiros_server.errors import FieldError
from oneiros_server.runtime.vgg19 import LAYER_NAMES, load_vgg19
from oneiros_server.scheduling.control import CallControl


@pytest.fixture(scope="module")
def backbone():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_vgg19(None, "cpu")
    torch.set_num_threads(threads)


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def _stylize(backbone, **fields):
    stylizer = Stylizer(backbone, torch.device("cpu"), StylizeDefaults.from_parameters({}), StyleCache(2), 64, 20)
    params = StylizeParams(
        content=fields.pop("content", _image(40, 40)),
        style=fields.pop("style", _image(40, 40, 1)),
        **({"steps": 1, "style_layers": {"block1_conv1": 1.0}, "content_layers": ["block1_conv2"]} | fields),
    )
    events = []
    return stylizer.run(stylizer.validate(params), CallControl(), events.append), events


def test_min_side_counts_the_poolings():
    assert min_side(LAYER_NAMES, "block1_conv1") == 1
    assert min_side(LAYER_NAMES, "block1_pool") == 2
    assert min_side(LAYER_NAMES, "block5_conv4") == 16
    assert min_side(LAYER_NAMES, "block5_pool") == 32


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(max_side=20, content_layers=["block5_pool"]), "content_layers[0]"),
        (dict(max_side=20, style_layers={"block5_pool": 1.0}), "style_layers[block5_pool]"),
        (dict(content=_image(20, 20), content_layers=["block5_pool"]), "content_layers[0]"),
        # A wide style is analysed at the content's pixel count: only 18 px high here.
        (dict(style=_image(20, 64), style_layers={"block5_pool": 1.0}, max_side=32), "style_layers[block5_pool]"),
    ],
)
def test_unreachable_layers_are_refused_naming_the_side_they_need(backbone, fields, field):
    with pytest.raises(FieldError) as err:
        _stylize(backbone, **fields)
    assert err.value.field == field and "block5_pool" in err.value.message and "32 px" in err.value.message


def test_deepest_layers_work_at_the_smallest_side_they_need(backbone):
    result, _ = _stylize(backbone, max_side=32, content_layers=["block5_pool"], style_layers={"block5_pool": 1.0})
    assert result.image.shape == (32, 32, 3)
    params = DreamParams(image=_image(32, 32), layer_weights={"block5_pool": 1.0}, octaves=2, steps_per_octave=1)
    dream = run_dream(
        backbone,
        validate_dream(params, default_dream_params({}), LAYER_NAMES, 1024, 2000),
        CallControl(),
        lambda event: None,
        device=torch.device("cpu"),
    )
    assert dream.image.shape == (32, 32, 3) and len(dream.loss_history) == 2


def test_both_optimisers_report_the_loss_each_step_starts_from(backbone):
    lbfgs, lbfgs_events = _stylize(backbone, optimizer="LBFGS", steps=2, seed=0)
    adam, _ = _stylize(backbone, optimizer="ADAM", steps=2, seed=0)
    # Same request, same starting image: the first step starts from the same loss.
    assert lbfgs.loss_history[0] == pytest.approx(adam.loss_history[0], rel=1e-5)
    assert lbfgs_events[0].loss == lbfgs.loss_history[0]

"""The Stylize engine without a server: objective, determinism, cache, colour, validation (tiny images)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.style_loss import Targets, Weights, gram, objective
from oneiros_server.engines.convnet.stylize import Stylizer, luminance, to_tensor
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams, StylizeProgress
from oneiros_server.errors import Cancelled, FieldError
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl

FAST = dict(
    style_layers={"block1_conv1": 10.0, "block2_conv1": 10.0, "block3_conv1": 10.0},
    content_layers=["block3_conv2"],
    steps=6,
    max_side=48,
)


@pytest.fixture(scope="module")
def backbone():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: more threads only contend on a shared machine
    yield load_vgg19(None, "cpu")
    torch.set_num_threads(threads)


def _stylizer(backbone, entries: int = 4, max_steps: int = 50, precision: Precision | None = None) -> Stylizer:
    return Stylizer(
        backbone,
        torch.device("cpu"),
        StylizeDefaults.from_parameters({}),
        StyleCache(entries),
        max_side_limit=64,
        max_steps=max_steps,
        precision=precision,
    )


def _content(h=40, w=48) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    return np.stack([x, y, 0.5 + 0.3 * np.sin(8 * x)], -1).astype(np.float32)


def _style(h=48, w=48, seed=0) -> np.ndarray:
    stripes = (np.sin(np.mgrid[0:h, 0:w][1] * 1.3) > 0).astype(np.float32)
    noise = np.random.default_rng(seed).random((h, w, 1), dtype=np.float32)
    return np.concatenate([stripes[..., None], 0.2 + 0 * noise, noise], -1)


def _run(stylizer, control=None, **fields):
    events: list[StylizeProgress] = []
    params = StylizeParams(
        content=fields.pop("content", _content()), style=fields.pop("style", _style()), **(FAST | fields)
    )
    result = stylizer.run(stylizer.validate(params), control or CallControl(), events.append)
    return result, events


def test_gram_is_normalised_by_size():
    f = torch.rand(1, 8, 10, 12)
    tiled = f.repeat(1, 1, 2, 2)  # same statistics, four times the positions
    assert torch.allclose(gram(f), gram(tiled), atol=1e-6)


@pytest.mark.parametrize("optimizer", ["LBFGS", "ADAM"])
def test_losses_fall_and_progress_reports_parts(backbone, optimizer):
    result, events = _run(
        _stylizer(backbone),
        optimizer=optimizer,
        steps=8,
        tv_weight=0.5,
        preview_every=4,
        **({"learning_rate": 4.0} if optimizer == "ADAM" else {}),
    )
    losses = result.loss_history
    assert len(losses) == 8 == len(events) and [e.step for e in events] == list(range(1, 9))
    assert losses[-1] < 0.5 * losses[0]
    assert sum(b < a for a, b in zip(losses, losses[1:])) >= 6  # falls step by step (allow one bump)
    for e in events:
        assert e.total_steps == 8
        assert e.loss == pytest.approx(e.content_loss + e.style_loss + e.tv_loss, rel=1e-4)
    assert [e.step for e in events if e.preview is not None] == [4, 8]
    assert events[3].preview.shape == (40, 48, 3)
    assert result.image.shape == (40, 48, 3) and 0 <= result.image.min() and result.image.max() <= 1
    assert result.style_loss > 0 and result.content_loss > 0 and result.tv_loss > 0


def test_seed_makes_noise_init_deterministic(backbone):
    stylizer = _stylizer(backbone)
    a, _ = _run(stylizer, init="NOISE", seed=7, steps=3)
    b, _ = _run(stylizer, init="NOISE", seed=7, steps=3)
    c, _ = _run(stylizer, init="NOISE", seed=8, steps=3)
    assert np.array_equal(a.image, b.image) and a.loss_history == b.loss_history
    assert not np.array_equal(a.image, c.image)


def test_style_targets_cached_across_requests(backbone):
    stylizer = _stylizer(backbone, entries=2)
    first, _ = _run(stylizer, steps=1)
    assert (stylizer.cache.misses, stylizer.cache.hits, first.cache_hit) == (1, 0, False)
    second, _ = _run(stylizer, steps=1, content=_content()[::-1].copy())  # new content, same style and size
    assert (stylizer.cache.misses, stylizer.cache.hits, second.cache_hit) == (1, 1, True)
    _run(stylizer, steps=1, style=_style(seed=1))  # another style: a miss
    _run(stylizer, steps=1, preserve_color=True)  # luminance-only targets differ: a miss
    assert (stylizer.cache.misses, len(stylizer.cache)) == (3, 2)  # bounded: the oldest went
    disabled = _stylizer(backbone, entries=0)
    _run(disabled, steps=1)
    _run(disabled, steps=1)
    assert (disabled.cache.hits, len(disabled.cache)) == (0, 0)


def test_preserve_color_keeps_the_content_chroma(backbone):
    content = _content()
    kept, _ = _run(_stylizer(backbone), preserve_color=True, style_weight=50.0)
    free, _ = _run(_stylizer(backbone), preserve_color=False, style_weight=50.0)

    def chroma_error(image):
        a, b = to_tensor(image, "cpu"), to_tensor(content, "cpu")
        return float(((a - luminance(a)) - (b - luminance(b))).abs().mean())

    assert chroma_error(kept.image) < 0.02 < chroma_error(free.image)


def test_coarse_to_fine_counts_every_step(backbone):
    result, events = _run(_stylizer(backbone), coarse_to_fine=True, steps=6, max_side=64, content=_content(64, 64))
    assert len(result.loss_history) == 6 and events[-1].step == 6 == events[-1].total_steps
    assert result.image.shape == (64, 64, 3)


def test_all_weights_zero_leaves_the_content(backbone):
    content = _content()
    result, events = _run(_stylizer(backbone), content=content, content_weight=0.0, style_weight=0.0, steps=2)
    assert np.abs(result.image - content).max() < 1e-5 and [e.loss for e in events] == [0.0, 0.0]


def test_style_init_and_cancellation(backbone):
    control = CallControl()
    seen = []

    def emit(event):
        seen.append(event)
        if len(seen) == 2:
            control.cancel()

    stylizer = _stylizer(backbone)
    with pytest.raises(Cancelled):
        params = stylizer.validate(StylizeParams(content=_content(), style=_style(), init="STYLE", **FAST))
        stylizer.run(params, control, emit)
    assert len(seen) == 2


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(style_layers={"block9_conv1": 1.0}), "style_layers[block9_conv1]"),
        (dict(style_weight=-1.0), "style_weight"),
        (dict(content_weight=float("nan")), "content_weight"),
        (dict(tv_weight=float("inf")), "tv_weight"),
        (dict(style_layers={"block1_conv1": -2.0}), "style_layers[block1_conv1]"),
        (dict(content_layers=["block3_conv2", "fc7"]), "content_layers[1]"),
        (dict(steps=51), "steps"),
        (dict(max_side=65), "max_side"),
        (dict(max_side=8), "max_side"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(optimizer="SGD"), "optimizer"),
        (dict(init="ZEROS"), "init"),
        (dict(content=np.zeros((8, 40, 3), np.float32)), "content"),
        (dict(style=np.zeros((40, 40), np.float32)), "style"),
    ],
)
def test_validation_names_the_field(backbone, fields, field):
    with pytest.raises(FieldError) as err:
        _stylizer(backbone).validate(StylizeParams(**({"content": _content(), "style": _style()} | FAST | fields)))
    assert err.value.field == field
    if "unknown" in err.value.message:
        assert "valid layers: block1_conv1, block1_conv2" in err.value.message


def _fp32_score(backbone, result, **fields) -> float:
    """The request's objective of ``result.image``, measured in float32 from float32 targets."""
    params = _stylizer(backbone).validate(
        StylizeParams(content=fields.pop("content", _content()), style=fields.pop("style", _style()), **(FAST | fields))
    )
    weights = Weights(
        params.content_weight, params.style_weight, params.tv_weight, params.style_layers, tuple(params.content_layers)
    )
    image, content, style = (to_tensor(a, "cpu") for a in (result.image, params.content, params.style))
    with torch.no_grad():
        targets = Targets(
            backbone(content, weights.content_layers),
            {k: gram(v) for k, v in backbone(style, list(weights.style_layers)).items()},
        )
        return objective(image, backbone(image, weights.layers), targets, weights).floats()[0]


@pytest.mark.parametrize("optimizer", ["LBFGS", "ADAM"])
def test_bf16_final_loss_is_within_3_percent_of_fp32(backbone, optimizer):
    # Square 32 px content and style: no resizing, so the float32 score sees what the run saw.
    # L-BFGS's path differs early on (its curvature pairs see bf16's noisier gradients): by
    # 20 steps bf16 can be 25 % behind, by 40 the two agree to about 1 %.
    fields = dict(content=_content(32, 32), style=_style(32, 32), max_side=32, optimizer=optimizer, steps=40)
    if optimizer == "ADAM":
        fields.update(steps=8, learning_rate=4.0)
    scores = {}
    for name in ("fp32", "bf16"):
        stylizer = _stylizer(backbone, precision=Precision(name, "cpu"))
        result, _ = _run(stylizer, **fields)
        scores[name] = _fp32_score(backbone, result, **fields)
        start = result.loss_history[0]
    assert scores["fp32"] < 0.6 * start  # the runs got somewhere
    assert abs(scores["bf16"] - scores["fp32"]) <= 0.03 * scores["fp32"], scores

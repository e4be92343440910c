"""Stylize requests and results on plain types, the model's defaults, and validation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from oneiros_server.engines.language_model.reach import check_reach
from oneiros_server.errors import FieldError, echo, short

MIN_SIDE = 16  # VGG19 pools four times before block5
OPTIMIZERS = ("LBFGS", "ADAM")
INITS = ("CONTENT", "NOISE", "STYLE")
FORMATS = ("PNG", "JPEG", "WEBP")

# Fallbacks when model.json has no "stylize" parameters (the shipped model.json has them).
BUILTIN_DEFAULTS: dict = dict(
    content_weight=3.0,
    style_weight=1.0,
    tv_weight=0.0,
    style_layers={f"block{b}_conv1": 10.0 for b in range(1, 6)},
    content_layers=["block4_conv2"],
    steps=100,
    optimizer="LBFGS",
    learning_rate={"LBFGS": 1.0, "ADAM": 2.0},  # ADAM: grey levels (0-255) per step
    init="CONTENT",
    max_side=384,
)


@dataclass
class StylizeParams:
    """A Stylize request (proto field names); None/zero/empty mean "the model's default"."""

    content: np.ndarray  # (H, W, 3) float32 RGB in [0, 1] (in a request: or the function that decodes it)
    style: np.ndarray | None  # (H, W, 3) float32 RGB in [0, 1] (idem); None for a style network (its own)
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    style_layers: dict[str, float] = field(default_factory=dict)
    content_layers: list[str] = field(default_factory=list)
    steps: int = 0
    optimizer: str = "LBFGS"
    learning_rate: float | None = None
    init: str = "CONTENT"
    preserve_color: bool = False
    max_side: int = 0
    seed: int | None = None
    output_format: str = "PNG"
    preview_every: int = 0
    coarse_to_fine: bool = False


@dataclass
class StylizeProgress:
    """One optimisation step: the weighted loss (before the step) and its parts."""

    step: int  # 1-based
    total_steps: int
    loss: float
    content_loss: float
    style_loss: float
    tv_loss: float
    preview: np.ndarray | None = None  # (H, W, 3) float32 in [0, 1]

    @property
    def steps_done(self) -> int:
        return self.step


@dataclass
class StylizeResult:
    image: np.ndarray  # (H, W, 3) float32 in [0, 1], at the working size
    loss_history: list[float]  # the weighted total loss at each step
    content_loss: float  # the weighted parts, measured on the returned image
    style_loss: float
    tv_loss: float
    elapsed_ms: int
    cache_hit: bool = False  # the style targets came from the cache
    evaluations: int = 0  # backbone forward + backward passes (L-BFGS: steps + 1 + backtracks)


@dataclass(frozen=True)
class StylizeDefaults:
    """The model's default parameters (``parameters.stylize`` in model.json)."""

    content_weight: float
    style_weight: float
    tv_weight: float
    style_layers: dict[str, float]
    content_layers: list[str]
    steps: int
    optimizer: str
    learning_rate: dict[str, float]  # per optimizer
    init: str
    max_side: int

    @classmethod
    def from_parameters(cls, parameters: dict) -> StylizeDefaults:
        merged = {**BUILTIN_DEFAULTS, **parameters}
        return cls(**{k: merged[k] for k in cls.__dataclass_fields__})


def fit(height: int, width: int, max_side: int) -> tuple[int, int]:
    """Downscale (never upscale) so the longest side is at most ``max_side``."""
    scale = min(1.0, max_side / max(height, width))
    return max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale))


def style_size(style_hw: tuple[int, int], content_hw: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The style's size with the content's pixel count and the style's aspect ratio."""
    sh, sw = style_hw
    height = math.sqrt(content_hw[0] * content_hw[1] * sh / sw)
    return fit(max(MIN_SIDE, round(height)), max(MIN_SIDE, round(height * sw / sh)), max_side)


def levels(final_hw: tuple[int, int], steps: int, coarse_to_fine: bool) -> list[tuple[tuple[int, int], int]]:
    """(working size, steps) per level: half the steps at half the size first with ``coarse_to_fine``."""
    if coarse_to_fine and steps >= 2 and min(final_hw) >= 4 * MIN_SIDE:
        coarse = steps // 2
        return [((final_hw[0] // 2, final_hw[1] // 2), coarse), (final_hw, steps - coarse)]
    return [(final_hw, steps)]


def _check_reach(p: StylizeParams, layer_names: list[str], max_side_limit: int) -> None:
    """Every layer in use must be reachable at every working size (image and style)."""
    style = [(f"style_layers[{n}]", n) for n, w in p.style_layers.items() if w] if p.style_weight else []
    content = [(f"content_layers[{i}]", n) for i, n in enumerate(p.content_layers)] if p.content_weight else []
    final_hw = fit(*p.content.shape[:2], p.max_side)
    for size, _ in levels(final_hw, p.steps, p.coarse_to_fine):
        check_reach(layer_names, content + style, size, "the image")
        check_reach(layer_names, style, style_size(p.style.shape[:2], size, max_side_limit), "the style image")


def _weight(value: float, name: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise FieldError(name, f"must be a finite number >= 0, got {value}")
    return float(value)


def _check_image(array: np.ndarray, name: str) -> None:
    if array.ndim != 3 or array.shape[2] != 3:
        raise FieldError(name, f"expected an RGB image, got an array of shape {array.shape}")
    if min(array.shape[:2]) < MIN_SIDE:
        raise FieldError(name, f"image is {array.shape[1]}x{array.shape[0]}; both sides must be at least {MIN_SIDE} px")


def validate_stylize(
    p: StylizeParams, d: StylizeDefaults, layer_names: list[str], max_side_limit: int, max_steps: int
) -> StylizeParams:
    """Fill the defaults and validate; raises FieldError naming the field and the allowed range."""
    valid = ", ".join(layer_names)
    style_layers = dict(p.style_layers) or dict(d.style_layers)
    content_layers = list(dict.fromkeys(p.content_layers or d.content_layers))
    for name, weight in style_layers.items():
        if name not in layer_names:
            raise FieldError(f"style_layers[{short(name)}]", f"unknown layer {echo(name)}; valid layers: {valid}")
        _weight(weight, f"style_layers[{name}]")
    for i, name in enumerate(content_layers):
        if name not in layer_names:
            raise FieldError(f"content_layers[{i}]", f"unknown layer {echo(name)}; valid layers: {valid}")
    if p.optimizer not in OPTIMIZERS:
        raise FieldError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {p.optimizer!r}")
    if p.init not in INITS:
        raise FieldError("init", f"must be one of {', '.join(INITS)}, got {p.init!r}")
    if p.output_format not in FORMATS:
        raise FieldError("output_format", f"must be one of {', '.join(FORMATS)}, got {p.output_format!r}")
    learning_rate = p.learning_rate if p.learning_rate is not None else d.learning_rate[p.optimizer]
    if not (math.isfinite(learning_rate) and 0 < learning_rate <= 1e3):
        raise FieldError("learning_rate", f"must be in (0, 1000], got {learning_rate}")
    steps = p.steps or d.steps
    if not 1 <= steps <= max_steps:
        raise FieldError("steps", f"must be between 1 and {max_steps} (0 = default {d.steps}), got {steps}")
    max_side = p.max_side or min(d.max_side, max_side_limit)
    if not MIN_SIDE <= max_side <= max_side_limit:
        raise FieldError(
            "max_side", f"must be between {MIN_SIDE} and {max_side_limit} px (0 = default), got {max_side}"
        )
    if p.preview_every < 0:
        raise FieldError("preview_every", "must be 0 (no previews) or a positive step count")
    if p.seed is not None and not 0 <= p.seed < 2**64:
        raise FieldError("seed", "must be a 64-bit unsigned integer")
    if p.style is None:
        raise FieldError("style", "a style image is required (an encoded PNG, JPEG or WebP file)")
    _check_image(p.content, "content")
    _check_image(p.style, "style")
    resolved = replace(
        p,
        content_weight=_weight(d.content_weight if p.content_weight is None else p.content_weight, "content_weight"),
        style_weight=_weight(d.style_weight if p.style_weight is None else p.style_weight, "style_weight"),
        tv_weight=_weight(d.tv_weight if p.tv_weight is None else p.tv_weight, "tv_weight"),
        style_layers=style_layers,
        content_layers=content_layers,
        steps=steps,
        learning_rate=float(learning_rate),
        max_side=max_side,
    )
    _check_reach(resolved, layer_names, max_side_limit)
    return resolved

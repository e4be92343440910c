"""DeepDream (Chollet ch. 12): gradient ascent on the image, octave by octave.

The objective is a weighted sum over layers of the mean squared activation (a
border of ``border`` cells is left out, as in the chapter). Each step moves the
image by ``step_size`` times the gradient normalised to unit mean absolute value,
so ``step_size`` is the mean per-pixel change on the [0, 1] scale, whatever the image
size. Between octaves the detail lost by downscaling is re-injected. A random roll
of up to ``jitter`` pixels per step (seeded) hides the grid of the strided layers.
The backbone runs in the engine's ``Precision`` (bfloat16 autocast where the device is
fast at it); the objective, the gradient and the image stay float32.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from oneiros_server.engines.language_model.reach import check_reach
from oneiros_server.errors import FieldError, echo, short
from oneiros_server.runtime.precision import Precision
from oneiros_server.scheduling.control import CallControl

MIN_SIDE = 32
MAX_OCTAVES = 10
MAX_JITTER = 128

# Fallbacks when model.json has no "dream" parameters.
BUILTIN_DEFAULTS = dict(
    layer_weights={"block5_conv2": 1.0, "block5_conv4": 1.0},
    octaves=3,
    octave_scale=1.4,
    steps_per_octave=20,
    step_size=0.006,
    max_loss=None,
    jitter=8,
    max_side=512,
    border=2,
)


@dataclass
class DreamParams:
    """A Dream request on plain types; zero/empty fields mean "the model's default"."""

    image: np.ndarray  # (H, W, 3) float32 RGB in [0, 1] (in a request: or the function that decodes it)
    layer_weights: dict[str, float] = field(default_factory=dict)
    octaves: int = 0
    octave_scale: float = 0.0
    steps_per_octave: int = 0
    step_size: float = 0.0
    max_loss: float | None = None
    jitter: int | None = None  # None = the model's default; 0 = off
    seed: int | None = None
    max_side: int = 0
    preview_every: int = 0
    border: int = 2  # activation cells left out at each edge of the loss


@dataclass
class DreamProgress:
    step: int  # 1-based position in the plan (octave * steps_per_octave + i + 1)
    total_steps: int
    octave: int  # 0-based, smallest first
    loss: float
    preview: np.ndarray | None = None  # (H, W, 3) float32 in [0, 1]

    @property
    def steps_done(self) -> int:
        return self.step


@dataclass
class DreamResult:
    image: np.ndarray  # (H, W, 3) float32 in [0, 1], at the working size
    loss_history: list[float]
    elapsed_ms: int


def default_dream_params(parameters: dict) -> DreamParams:
    """The model's defaults (``parameters.dream`` in model.json) as a template."""
    merged = {**BUILTIN_DEFAULTS, **parameters}
    return DreamParams(image=np.zeros((0, 0, 3), np.float32), **merged)


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


def validate_dream(
    params: DreamParams, defaults: DreamParams, layer_names: list[str], max_side_limit: int, max_steps: int
) -> DreamParams:
    """Fill defaults and validate; raises FieldError naming the field and the allowed range."""
    p = replace(
        params,
        layer_weights=dict(params.layer_weights) or dict(defaults.layer_weights),
        octaves=params.octaves or defaults.octaves,
        octave_scale=params.octave_scale or defaults.octave_scale,
        steps_per_octave=params.steps_per_octave or defaults.steps_per_octave,
        step_size=params.step_size or defaults.step_size,
        max_loss=params.max_loss if params.max_loss is not None else defaults.max_loss,
        jitter=params.jitter if params.jitter is not None else defaults.jitter,
        max_side=params.max_side or min(defaults.max_side, max_side_limit),
    )
    image = p.image
    if image.ndim != 3 or image.shape[2] != 3:
        raise FieldError("image", f"expected an RGB image, got an array of shape {image.shape}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise FieldError(
            "image", f"image is {image.shape[1]}x{image.shape[0]}; both sides must be at least {MIN_SIDE} px"
        )
    valid = ", ".join(layer_names)
    for name, weight in p.layer_weights.items():
        if name not in layer_names:
            raise FieldError(f"layer_weights[{short(name)}]", f"unknown layer {echo(name)}; valid layers: {valid}")
        if not _finite(weight):
            raise FieldError(f"layer_weights[{name}]", "weight must be a finite number")
    if not any(p.layer_weights.values()):
        raise FieldError("layer_weights", "at least one layer needs a non-zero weight")
    # Every octave is worked at MIN_SIDE px or more: each layer must have cells there.
    used = [(f"layer_weights[{name}]", name) for name, weight in p.layer_weights.items() if weight]
    check_reach(layer_names, used, (MIN_SIDE, MIN_SIDE), "the smallest octave")
    if not 1 <= p.octaves <= MAX_OCTAVES:
        raise FieldError("octaves", f"must be between 1 and {MAX_OCTAVES}, got {p.octaves}")
    if not (_finite(p.octave_scale) and 1.0 < p.octave_scale <= 4.0):
        raise FieldError("octave_scale", f"must be in (1, 4], got {p.octave_scale}")
    if p.steps_per_octave < 1 or p.octaves * p.steps_per_octave > max_steps:
        raise FieldError(
            "steps_per_octave",
            f"octaves x steps_per_octave must be between 1 and {max_steps}, got {p.octaves} x {p.steps_per_octave}",
        )
    if not (_finite(p.step_size) and 0.0 < p.step_size <= 1.0):
        raise FieldError("step_size", f"must be in (0, 1] (mean pixel change per step), got {p.step_size}")
    if p.max_loss is not None and not _finite(p.max_loss):
        raise FieldError("max_loss", "must be a finite number when set")
    if not 0 <= p.jitter <= MAX_JITTER:
        raise FieldError("jitter", f"must be between 0 and {MAX_JITTER} px, got {p.jitter}")
    if not MIN_SIDE <= p.max_side <= max_side_limit:
        raise FieldError(
            "max_side", f"must be between {MIN_SIDE} and {max_side_limit} px (0 = default), got {p.max_side}"
        )
    if p.preview_every < 0:
        raise FieldError("preview_every", "must be 0 (no previews) or a positive step count")
    return p


def octave_shapes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Working sizes, smallest first; never below MIN_SIDE."""
    shapes = [(max(MIN_SIDE, int(height / scale**i)), max(MIN_SIDE, int(width / scale**i))) for i in range(octaves)]
    return shapes[::-1]


def resize(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, *shape), bilinear, antialiased when shrinking."""
    if tuple(x.shape[-2:]) == tuple(shape):
        return x
    shrinking = shape[0] < x.shape[-2] or shape[1] < x.shape[-1]
    return F.interpolate(x, size=shape, mode="bilinear", align_corners=False, antialias=shrinking)


def dream_loss(features: dict[str, torch.Tensor], weights: dict[str, float], border: int) -> torch.Tensor:
    """Sum over layers of weight * mean squared activation, without the border cells (float32)."""
    loss = 0.0
    for name, weight in weights.items():
        act = features[name].float()  # (B, C, h, w)
        h, w = act.shape[-2:]
        if border and h > 2 * border and w > 2 * border:
            act = act[..., border : h - border, border : w - border]
        loss = loss + weight * act.square().mean()
    return loss


def ascent_step(
    backbone,
    image: torch.Tensor,
    weights: dict[str, float],
    border: int,
    step_size: float,
    shift: tuple[int, int],
    precision: Precision | None = None,
) -> tuple[torch.Tensor, float]:
    """One normalised gradient-ascent step on (1, 3, H, W) ``image``; returns (image, loss)."""
    rolled = torch.roll(image, shifts=shift, dims=(2, 3)).requires_grad_(True)
    with torch.enable_grad():
        with (precision or Precision.fp32(image.device.type)).autocast():
            features = backbone(rolled, weights.keys())
        loss = dream_loss(features, weights, border)
        (grad,) = torch.autograd.grad(loss, rolled)
    grad = torch.roll(grad, shifts=(-shift[0], -shift[1]), dims=(2, 3))
    grad = grad / grad.abs().mean().clamp_min(1e-12)
    return (image + step_size * grad).clamp_(0.0, 1.0), float(loss.detach())


def run_dream(
    backbone,
    p: DreamParams,
    control: CallControl,
    emit,
    *,
    device: torch.device,
    precision: Precision | None = None,
) -> DreamResult:
    """Run DeepDream on validated params (``validate_dream``); ``emit`` gets a DreamProgress per
    step; stops at ``control.check()``."""
    started = time.monotonic()
    weights = {k: float(v) for k, v in p.layer_weights.items() if v}
    seed = p.seed if p.seed is not None else int.from_bytes(os.urandom(8), "little")
    rng = np.random.default_rng(seed)

    original = torch.from_numpy(np.ascontiguousarray(p.image, dtype=np.float32))
    original = original.permute(2, 0, 1).unsqueeze(0).to(device)  # (1, 3, H, W)
    height, width = original.shape[-2:]
    if max(height, width) > p.max_side:
        factor = p.max_side / max(height, width)
        original = resize(original, (max(MIN_SIDE, round(height * factor)), max(MIN_SIDE, round(width * factor))))
    shapes = octave_shapes(*original.shape[-2:], p.octaves, p.octave_scale)
    total = p.octaves * p.steps_per_octave

    losses: list[float] = []
    shrunk = resize(original, shapes[0])
    image = shrunk.clone()
    for octave, shape in enumerate(shapes):
        image = resize(image, shape)
        for i in range(p.steps_per_octave):
            control.check()
            shift = tuple(int(s) for s in rng.integers(-p.jitter, p.jitter + 1, size=2)) if p.jitter else (0, 0)
            image, loss = ascent_step(backbone, image, weights, p.border, p.step_size, shift, precision)
            losses.append(loss)
            step = octave * p.steps_per_octave + i + 1
            preview = None
            if p.preview_every and step % p.preview_every == 0:
                preview = image[0].permute(1, 2, 0).cpu().numpy()
            emit(DreamProgress(step, total, octave, loss, preview))
            if p.max_loss is not None and loss > p.max_loss:
                break
        # Re-inject the detail that the trip through the smaller size lost.
        same_size = resize(original, shape)
        image = (image + same_size - resize(shrunk, shape)).clamp_(0.0, 1.0)
        shrunk = same_size
    result = image[0].permute(1, 2, 0).cpu().numpy()  # (H, W, 3)
    return DreamResult(result, losses, int((time.monotonic() - started) * 1000))

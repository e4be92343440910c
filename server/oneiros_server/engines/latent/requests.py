"""Decode and EditLatent on plain types: the requests, the validated edit and the result.

Field names mirror the proto, so ``FieldError`` paths match (``latents[3]``, ``grid.axis_x``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

DEFAULT_GRID_STEPS = 10
DEFAULT_GRID_EXTENT = 2.0
DEFAULT_INTERPOLATION_STEPS = 8

ImageInput = Image.Image | np.ndarray  # decoded image, any size and mode
# An image, or a function that decodes it: called only once the model is known to have an encoder.
ImageSource = ImageInput | Callable[[], ImageInput]


@dataclass
class Grid:
    axis_x: int = 0
    axis_y: int = 1
    steps: int = 0  # points per side; 0 = DEFAULT_GRID_STEPS (fewer if max images is lower)
    extent: float = 0.0  # covers [-extent, extent]; 0 = DEFAULT_GRID_EXTENT


@dataclass
class DecodeRequest:
    """Exactly one of: ``latents``; ``count`` (+ ``seed``) prior samples; ``grid``."""

    latents: Sequence[Sequence[float]] = ()
    count: int = 0
    seed: int | None = None
    grid: Grid | None = None


@dataclass
class AttributeEdit:
    attribute: str
    strength: float


@dataclass
class EditRequest:
    """Source (``image`` or ``latent``) -> edits -> optional sweep -> optional interpolation.

    Outputs: one image per strength of the sweep (along ``direction`` or ``sweep_attribute``),
    then ``interpolation_steps`` images towards the target; if neither is asked for, the one
    edited image.
    """

    image: ImageSource | None = None
    latent: Sequence[float] | None = None
    edits: Sequence[AttributeEdit] = ()
    direction: Sequence[float] | None = None
    strengths: Sequence[float] = ()
    sweep_attribute: str = ""
    target_image: ImageSource | None = None
    target_latent: Sequence[float] | None = None
    interpolation_steps: int = 0  # both ends included; 0 = DEFAULT_INTERPOLATION_STEPS
    interpolation: str = "LERP"  # or "SLERP"


@dataclass
class LatentResult:
    images: np.ndarray  # (N, H, W, C) uint8
    latents: np.ndarray  # (N, D) float32: the points decoded
    source_latent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (D,), EditLatent


@dataclass(frozen=True)
class EditParams:
    """A validated EditRequest: every check done, images converted to 28x28 digits."""

    source: np.ndarray  # (D,) latent, or (H, W, C) pixels in [0, 1] when ``source_is_image``
    source_is_image: bool
    edits: tuple[tuple[float, np.ndarray], ...]  # (strength, attribute vector), applied in order
    strengths: np.ndarray | None  # (S,) the sweep along ``direction``, or None
    direction: np.ndarray | None  # (D,)
    target: np.ndarray | None  # (D,) latent or (H, W, C) pixels, or None
    target_is_image: bool
    steps: int  # interpolation points, both ends included
    interpolation: str

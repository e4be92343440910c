"""Plain result types returned by the clients (no protobuf in user code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image as PILImage


@dataclass(frozen=True)
class ModelInfo:
    """One model of the server's repository (``ListModels`` / ``GetModel``)."""

    name: str
    version: str
    kind: str  # "VAE", "GAN", "LANGUAGE_MODEL", "CONVNET"
    runtime: str
    device: str
    status: str  # "READY" or "UNAVAILABLE"
    status_reason: str = ""
    description: str = ""
    default_for: tuple[str, ...] = ()
    vocabulary_size: int = 0
    vocabulary: str = ""
    latent_size: int = 0
    image_shape: tuple[int, ...] = ()
    attributes: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    precision: str = ""  # CONVNET: "fp32" or "bf16", what its backbone runs in
    default_parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    architecture: dict[str, Any] = field(default_factory=dict)  # the network, as its model.json records it

    @property
    def ready(self) -> bool:
        return self.status == "READY"


@dataclass(frozen=True)
class Grid:
    """A 2-D sweep over latent axes ``axis_x`` and ``axis_y``: ``steps`` x ``steps``
    points covering ``[-extent, extent]`` (``extent=0`` = the server's default, 2.0)."""

    axis_x: int = 0
    axis_y: int = 1
    steps: int = 15
    extent: float = 0.0


@dataclass(frozen=True)
class Completion:
    """One generated text (``Sample``)."""

    text: str
    finish_reason: str  # "LENGTH", "STOP", "CANCELLED"
    token_count: int
    mean_entropy_bits: float
    index: int = 0
    model_version: str = ""  # the model version that answered


@dataclass(frozen=True)
class SampleChunk:
    """A piece of streamed text; ``finish_reason`` is set on a completion's last chunk."""

    index: int
    text: str
    finish_reason: str | None = None
    token_count: int = 0
    mean_entropy_bits: float = 0.0
    model_version: str = ""  # the model version that answers (on a stream's first chunk)


@dataclass(frozen=True)
class Progress:
    """One optimisation step of a Dream/Stylize stream."""

    step: int
    total_steps: int
    loss: float
    octave: int = 0
    preview: PILImage.Image | None = None
    content_loss: float = 0.0
    style_loss: float = 0.0
    tv_loss: float = 0.0
    model_version: str = ""  # the model version that answers (on a stream's first event)


@dataclass(frozen=True)
class DreamResult:
    """A dreamed image, the objective at each step and the server's time."""

    image: PILImage.Image
    loss_history: list[float]
    elapsed_ms: int
    model_version: str = ""  # the model version that answered


@dataclass(frozen=True)
class StylizeResult:
    """A stylized image with the loss history and the final loss parts."""

    image: PILImage.Image
    loss_history: list[float]
    content_loss: float
    style_loss: float
    tv_loss: float
    elapsed_ms: int
    model_version: str = ""  # the model version that answered


@dataclass(frozen=True)
class DecodeResult:
    """Decoded images and the latent points actually decoded, shape (N, latent_size)."""

    images: list[PILImage.Image]
    latents: np.ndarray
    model_version: str = ""  # the model version that answered


@dataclass(frozen=True)
class EditResult:
    """Edited images, their latents (N, latent_size) and the source's latent (latent_size,)."""

    images: list[PILImage.Image]
    latents: np.ndarray
    source_latent: np.ndarray
    model_version: str = ""  # the model version that answered

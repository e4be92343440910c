"""The Gatys style-transfer objective: content, style (Gram) and total-variation losses.

Every term is computed in float32, whatever precision the backbone ran in, and
every term is a mean, so a weight means the same at any image size:

    content = mean over content layers of mean((F_x - F_c)^2)
    style   = sum over style layers of  w_l * mean((G_x - G_s)^2),  G = F F^T / (C H W)
    tv      = mean|x[:, :, :, 1:] - x[:, :, :, :-1]| + mean|x[:, :, 1:, :] - x[:, :, :-1, :]|

on post-ReLU VGG19 activations F of an RGB image x in [0, 1] (C channels, H x W).
With G normalised by C*H*W, a style layer weight w_l equals pastiche's layer
weight times C^2 (pastiche's default, 10 / C^2, is w_l = 10 here).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def gram(features: Tensor) -> Tensor:
    """(1, C, H, W) activations -> (C, C) Gram matrix / (C*H*W), in float32."""
    _, c, h, w = features.shape
    if c > 1 and features.is_contiguous(memory_format=torch.channels_last):
        f = features.permute(0, 2, 3, 1).reshape(h * w, c).float()  # (HW, C): a view of NHWC memory
        return (f.t() @ f) / (c * h * w)
    f = features.reshape(c, h * w).float()  # (C, HW)
    return (f @ f.t()) / (c * h * w)


def total_variation(image: Tensor) -> Tensor:
    """Anisotropic L1 total variation of (1, C, H, W) pixels: mean |dx| + mean |dy|."""
    image = image.float()
    dx = (image[:, :, :, 1:] - image[:, :, :, :-1]).abs().mean() if image.shape[3] > 1 else image.new_zeros(())
    dy = (image[:, :, 1:, :] - image[:, :, :-1, :]).abs().mean() if image.shape[2] > 1 else image.new_zeros(())
    return dx + dy


@dataclass(frozen=True)
class Weights:
    content: float
    style: float
    tv: float
    style_layers: dict[str, float]  # layer -> w_l
    content_layers: tuple[str, ...]

    @property
    def layers(self) -> list[str]:
        """Every layer the backbone must return, each once."""
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))


@dataclass
class Targets:
    """What the image is pulled towards: content activations and style Gram matrices."""

    content: dict[str, Tensor]  # layer -> (1, C, H, W) float32
    style: dict[str, Tensor]  # layer -> (C, C) float32


@dataclass
class LossParts:
    """Weighted parts of the objective (``total`` = content + style + tv)."""

    total: Tensor
    content: Tensor
    style: Tensor
    tv: Tensor

    def floats(self) -> tuple[float, float, float, float]:
        return tuple(float(t.detach()) for t in (self.total, self.content, self.style, self.tv))  # type: ignore[return-value]


def objective(image: Tensor, features: dict[str, Tensor], targets: Targets, weights: Weights) -> LossParts:
    """The weighted loss of ``image`` whose backbone activations are ``features``."""
    zero = image.new_zeros((), dtype=torch.float32)
    content = zero
    if weights.content_layers and weights.content:
        content = sum(
            torch.mean((features[name].float() - targets.content[name]) ** 2) for name in weights.content_layers
        ) / len(weights.content_layers)
    style = zero
    if weights.style:
        style = (
            sum(
                w * torch.mean((gram(features[name]) - targets.style[name]) ** 2)
                for name, w in weights.style_layers.items()
                if w
            )
            + zero
        )
    tv = total_variation(image) if weights.tv else zero
    content, style, tv = weights.content * content, weights.style * style, weights.tv * tv
    return LossParts(content + style + tv, content, style, tv)

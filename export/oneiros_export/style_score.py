"""The one function Stylize outputs are judged by: Oneiros' default objective, in float32, on 8-bit images."""

from __future__ import annotations

import json

import numpy as np
import torch

from oneiros_server.engines.convnet.style_loss import Targets, Weights, gram, objective
from oneiros_server.engines.convnet.stylize import to_tensor
from oneiros_server.engines.convnet.stylize_params import BUILTIN_DEFAULTS
from oneiros_server.settings import default_model_repository


def model_defaults() -> dict:
    manifest = default_model_repository() / "vgg19-imagenet" / "1" / "model.json"  # source tree or wheel
    return {**BUILTIN_DEFAULTS, **json.loads(manifest.read_text())["parameters"].get("stylize", {})}


def quantise(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def common_losses(backbone, images_u8: list, content_u8, style_u8, d: dict) -> list[dict[str, float]]:
    """The one function outputs are judged by, Oneiros' objective on 8-bit images, for each of
    ``images_u8`` against one content and one style (their targets computed once)."""
    style_layers = {k: float(v) for k, v in d["style_layers"].items() if v}
    weights = Weights(d["content_weight"], d["style_weight"], d["tv_weight"], style_layers, tuple(d["content_layers"]))
    c, s = (to_tensor(a.astype(np.float32) / 255, "cpu") for a in (content_u8, style_u8))
    scores = []
    with torch.no_grad():
        targets = Targets(
            backbone(c, weights.content_layers), {k: gram(v) for k, v in backbone(s, list(style_layers)).items()}
        )
        for image_u8 in images_u8:
            x = to_tensor(image_u8.astype(np.float32) / 255, "cpu")
            total, content_loss, style_loss, tv = objective(x, backbone(x, weights.layers), targets, weights).floats()
            scores.append(dict(total=total, content=content_loss, style=style_loss, tv=tv))
    return scores


def common_loss(backbone, image_u8, content_u8, style_u8, d: dict) -> dict[str, float]:
    """The one function both outputs are judged by: Oneiros' objective on 8-bit images."""
    return common_losses(backbone, [image_u8], content_u8, style_u8, d)[0]

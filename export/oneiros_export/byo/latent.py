"""Decoders, generators and encoders: what the latent engine needs, read from the model itself
(latent size, image shape, NHWC or NCHW, [0, 1] or [-1, 1] pixels, polarity), then exported and
checked against the source at batch 1 and 7."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from oneiros_export.byo import Refused, graph
from oneiros_export.byo.sources import Source

EPS = 1e-5
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _one_input(source: Source, role: str, rank: int, meaning: str) -> tuple[int | None, ...] | None:
    if not source.input_shapes:
        return None  # a torch module: shapes are found by running it
    if len(source.input_shapes) != 1:
        raise Refused(f"the {role} takes {len(source.input_shapes)} inputs; it must take one, {meaning}")
    shape = source.input_shapes[0]
    if len(shape) != rank:
        raise Refused(f"the {role}'s input has shape {shape} (rank {len(shape)}); it must be {meaning}")
    return shape


def latent_size_of(source: Source, role: str, given: int | None) -> int:
    shape = _one_input(source, role, 2, "(batch, latent_size)")
    if shape is not None and shape[1] is not None:
        if given and given != shape[1]:
            raise Refused(f"--latent-size {given} but the {role} takes {shape[1]}")
        return int(shape[1])
    if given:
        return given
    import torch

    linear = next((m for m in source.module.modules() if isinstance(m, torch.nn.Linear)), None)
    if linear is None:
        raise Refused(f"the {role}'s latent size cannot be read from the model; give --latent-size")
    return int(linear.in_features)


def _image_layout(shape: tuple[int, ...], origin: str, what: str) -> tuple[str, tuple[int, int, int]]:
    """(layout, (H, W, C)) of an image batch shape (N, a, b, c)."""
    if len(shape) != 4:
        raise Refused(f"{what} has shape {shape}: not an image batch (batch, height, width, 1 or 3 channels)")
    _, a, b, c = shape
    channels_last = c in (1, 3) and (origin == "keras" or a not in (1, 3))
    if channels_last:
        return "NHWC", (a, b, c)
    if a in (1, 3):
        return "NCHW", (b, c, a)
    raise Refused(f"{what} has shape {shape}: no axis of 1 or 3 channels, so it is not an image")


def _pixel_range(images: np.ndarray, activation: str, given: tuple[float, float] | None, role: str):
    if given is not None:
        return given
    if activation in RANGES:
        return RANGES[activation]
    low, high = float(images.min()), float(images.max())
    if low >= -EPS and high <= 1 + EPS:
        return (0.0, 1.0)
    if low >= -1 - EPS and high <= 1 + EPS:
        return (-1.0, 1.0)
    raise Refused(
        f"the {role}'s output spans [{low:.3g}, {high:.3g}]: not pixels in [0, 1] or [-1, 1] "
        "(end it with a sigmoid or a tanh, or give --pixel-range)"
    )


def import_decoder(
    source: Source, role: str, out: Path, latent_size: int | None, pixel_range: tuple[float, float] | None
) -> dict[str, Any]:
    """Write ``out/<role>.onnx``; returns the spec fields, exporter and parity figures."""
    size = latent_size_of(source, role, latent_size)
    z = np.random.default_rng(0).standard_normal((7, size)).astype(np.float32)
    outputs = graph.probe(source.module, z, f"the {role}")
    if len(outputs) != 1:
        raise Refused(f"the {role} gives {len(outputs)} outputs; it must give one batch of images")
    images = outputs[0]
    if not np.all(np.isfinite(images)):
        raise Refused(f"the {role} gave NaN or infinite values for standard-normal latents")
    layout, image_shape = _image_layout(images.shape, source.origin, f"the {role}'s output")
    low, high = _pixel_range(images, source.final_activation, pixel_range, role)
    module = graph.wrap(source.module)
    path = out / f"{role}.onnx"
    exporter = graph.export(module, z[:2], path, "latent", ["image"])
    diffs = graph.parity(module, path, {"batch 1": z[:1], "batch 7": z}, f"the {role}")
    spec: dict[str, Any] = {
        "latent_size": size,
        "image_shape": list(image_shape),
        "prior": "standard_normal",
        "layout": layout,
        "pixel_range": [low, high],
        role: {"input": "latent", "output": "image"},
    }
    if image_shape[2] == 1:
        unit = (images - low) / (high - low)
        unit = unit.transpose(0, 2, 3, 1) if layout == "NCHW" else unit  # (N, H, W, 1)
        border = np.concatenate([unit[:, 0], unit[:, -1], unit[:, :, 0], unit[:, :, -1]], axis=None)
        spec["polarity"] = "white_on_black" if float(border.mean()) < 0.5 else "black_on_white"
    return {"spec": spec, "file": path.name, "exporter": exporter, "parity": diffs}


def import_encoder(source: Source, out: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``out/encoder.onnx`` (image -> mean[, log-variance]) for the decoder's ``spec``."""
    height, width, channels = spec["image_shape"]
    layout, (low, high) = spec["layout"], spec["pixel_range"]
    dims = (channels, height, width) if layout == "NCHW" else (height, width, channels)
    shape = _one_input(source, "encoder", 4, f"(batch, {', '.join(map(str, dims))}), the decoder's images")
    if shape is not None and tuple(shape[1:]) != dims:
        raise Refused(f"the encoder takes {shape} but the decoder gives images of (batch, {', '.join(map(str, dims))})")
    x = np.random.default_rng(1).uniform(low, high, (7, *dims)).astype(np.float32)
    outputs = graph.probe(source.module, x, "the encoder")
    size = spec["latent_size"]
    fits = [i for i, o in enumerate(outputs) if o.shape == (7, size)]
    if not fits or fits[0] != 0:
        shapes = ", ".join(str(o.shape[1:]) for o in outputs)
        raise Refused(f"the encoder's outputs are ({shapes}); the first must be the mean, (batch, {size})")
    pick = [0, 1] if fits[:2] == [0, 1] else [0]  # mean and log-variance; a sampled z after them is left out
    names = ["mean", "logvar"][: len(pick)]
    module = graph.wrap(source.module, pick=pick)
    path = out / "encoder.onnx"
    exporter = graph.export(module, x[:2], path, "image", names)
    diffs = graph.parity(module, path, {"batch 1": x[:1], "batch 7": x}, "the encoder")
    return {
        "spec": {"encoder": {"input": "image", "outputs": names}},
        "file": path.name,
        "exporter": exporter,
        "parity": diffs,
    }

"""Attribute vectors from labelled images (White 2016's "smile vector"): the mean latent of the
images that have an attribute minus the mean latent of those that do not, as the project's own
VAE export finds thickness or digit classes.

``labels.csv``: a header ``image,<attribute>,<attribute>,...``, then one row per image: its path
(relative to the CSV) and per attribute 1 (has it) or 0 / -1 (has not).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image, UnidentifiedImageError

from oneiros_export.byo import Refused
from oneiros_server.engines.latent.images import to_model_image


def read_labels(path: Path) -> tuple[list[Path], dict[str, np.ndarray]]:
    """Image paths and, per attribute, a boolean array (True = has it)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise Refused(f"--attributes {path}: {exc.strerror}") from None
    if len(rows) < 3 or len(rows[0]) < 2:
        raise Refused(f"--attributes {path}: needs a header 'image,<attribute>,...' and at least two rows")
    header, body = rows[0], [r for r in rows[1:] if r]
    images, flags = [], []
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise Refused(f"--attributes {path} line {number}: {len(row)} columns, the header has {len(header)}")
        try:
            flags.append([float(v) > 0 for v in row[1:]])
        except ValueError:
            raise Refused(f"--attributes {path} line {number}: labels must be numbers (1, 0 or -1)") from None
        images.append(path.parent / row[0])
    table = np.array(flags, bool)
    attributes = {name: table[:, i] for i, name in enumerate(header[1:])}
    for name, has in attributes.items():
        if has.all() or not has.any():
            raise Refused(f"--attributes {path}: {name!r} needs images with it and images without it")
    return images, attributes


def attribute_vectors(labels: Path, encoder: Path, spec: dict[str, Any]) -> tuple[dict[str, list[float]], str]:
    """Per attribute, mean latent of the positives minus the negatives (encoder means)."""
    images, attributes = read_labels(labels)
    shape = tuple(spec["image_shape"])
    (low, high), layout = spec["pixel_range"], spec["layout"]
    pixels = []
    for image_path in images:
        try:
            with Image.open(image_path) as image:
                pixels.append(to_model_image(image, shape))
        except (OSError, UnidentifiedImageError):
            raise Refused(f"--attributes: {image_path} is not a readable image") from None
    x = np.stack(pixels) * (high - low) + low  # (N, H, W, C)
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2) if layout == "NCHW" else x, np.float32)
    session = ort.InferenceSession(str(encoder), providers=["CPUExecutionProvider"])
    means = session.run(["mean"], {"image": x})[0]  # (N, D)
    vectors = {
        name: [round(float(v), 6) for v in means[has].mean(0) - means[~has].mean(0)] for name, has in attributes.items()
    }
    note = f"mean encoder latent of the images with the attribute minus those without ({len(images)} images, {labels.name})"
    return vectors, note

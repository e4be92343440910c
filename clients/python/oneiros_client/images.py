"""Image conversions: what users hold (PIL, numpy, paths, bytes) <-> the wire's encoded files."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image as PILImage

from oneiros.v1 import oneiros_pb2 as pb

ImageLike = PILImage.Image | np.ndarray | str | os.PathLike[str] | bytes | bytearray | memoryview
"""Anything the SDK accepts as an image: a PIL image, an array ((H, W), (H, W, 1|3|4);
uint8, or float in [0, 1]), a file path, or the bytes of an encoded PNG/JPEG/WebP file."""


def _array_to_pil(array: np.ndarray) -> PILImage.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"image array must be (H, W) or (H, W, 1|3|4), got shape {a.shape}")
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.number) or not np.all(np.isfinite(a)):
            raise ValueError("image array must be uint8, or finite floats in [0, 1]")
        scale = 255.0 if np.issubdtype(a.dtype, np.floating) else 1.0
        a = np.clip(np.rint(a.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    return PILImage.fromarray(a)


def encode(image: PILImage.Image, fmt: str = "PNG") -> bytes:
    """Encode a PIL image as a PNG (default), JPEG or WebP file."""
    fmt = fmt.upper()
    if fmt == "JPG":
        fmt = "JPEG"
    if fmt == "JPEG" and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def to_bytes(image: ImageLike) -> bytes:
    """The encoded file to send for ``image``.

    Bytes are sent as they are (the server validates them); paths are read;
    PIL images and arrays are encoded losslessly as PNG.
    """
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as f:
            return f.read()
    if isinstance(image, np.ndarray):
        image = _array_to_pil(image)
    if isinstance(image, PILImage.Image):
        return encode(image, "PNG")
    raise TypeError(f"cannot send {type(image).__name__} as an image; pass PIL, numpy, a path or bytes")


def to_proto(image: ImageLike) -> pb.Image:
    """``image`` as an ``oneiros.v1.Image`` message."""
    return pb.Image(data=to_bytes(image))


def decode(data: bytes) -> PILImage.Image:
    """Decode an encoded image file into a loaded PIL image."""
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


def from_proto(image: pb.Image) -> PILImage.Image:
    """A PIL image from an ``oneiros.v1.Image`` message."""
    return decode(image.data)


def make_grid(
    images: Sequence[PILImage.Image],
    cols: int | None = None,
    *,
    padding: int = 2,
    background: int | tuple[int, ...] = 0,
    scale: int = 1,
) -> PILImage.Image:
    """Tile images row-major into one image (``cols`` defaults to a near-square layout).

    Cells take the size of the largest image; ``scale`` enlarges each cell with
    nearest-neighbour resampling (useful for 28x28 digits).
    """
    if not images:
        raise ValueError("make_grid needs at least one image")
    n = len(images)
    cols = max(1, min(cols or math.ceil(math.sqrt(n)), n))
    rows = math.ceil(n / cols)
    mode = "RGB" if any(im.mode not in ("L", "1", "I", "F") for im in images) else "L"
    cw = max(im.width for im in images) * scale
    ch = max(im.height for im in images) * scale
    if mode == "RGB" and isinstance(background, int):
        background = (background,) * 3
    grid = PILImage.new(mode, (cols * cw + (cols + 1) * padding, rows * ch + (rows + 1) * padding), background)
    for i, im in enumerate(images):
        im = im.convert(mode)
        if scale != 1:
            im = im.resize((im.width * scale, im.height * scale), PILImage.Resampling.NEAREST)
        r, c = divmod(i, cols)
        grid.paste(im, (padding + c * (cw + padding), padding + r * (ch + padding)))
    return grid

"""Image files in and out: safe decoding (limits checked before full decode) and encoding."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from oneiros_server.errors import FieldError
from oneiros_server.png import encode_png

FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WEBP"}
_ALLOWED_INPUT = {"PNG", "JPEG", "WEBP", "MPO"}  # MPO: JPEGs from phone cameras
_FAST_PNG_PIXELS = 256 * 256 * 3


def decode_image(data: bytes, field: str, *, max_bytes: int, max_pixels: int, mode: str = "RGB") -> Image.Image:
    """Decode an encoded PNG/JPEG/WebP into a PIL image of ``mode``.

    The header is read first: size and pixel count are checked before any pixel
    data is decoded, so decompression bombs cost nothing.
    """
    if not data:
        raise FieldError(field, "image data is empty; send an encoded PNG, JPEG or WebP file")
    if len(data) > max_bytes:
        raise FieldError(field, f"image is {len(data)} bytes; the limit is {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in _ALLOWED_INPUT:
                raise FieldError(field, f"image format {image.format} is not accepted; use PNG, JPEG or WebP")
            width, height = image.size
            if width < 1 or height < 1:
                raise FieldError(field, f"image has zero size ({width}x{height})")
            if width * height > max_pixels:
                raise FieldError(
                    field, f"image is {width}x{height} = {width * height} pixels; the limit is {max_pixels}"
                )
            image.load()
    except FieldError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise FieldError(field, "image data could not be decoded as PNG, JPEG or WebP") from None
    if image.mode != mode:
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            # Flatten transparency onto white, as a viewer would show it.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert(mode)
    return image


def to_array(image: Image.Image) -> np.ndarray:
    """(H, W, C) float32 in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[..., None] if array.ndim == 2 else array


def from_array(array: np.ndarray) -> Image.Image:
    """(H, W) or (H, W, C) float in [0, 1] or uint8 -> PIL image."""
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return Image.fromarray(array)


def encode_image(image: Image.Image | np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode to PNG (default), JPEG or WEBP bytes."""
    if isinstance(image, np.ndarray):
        if fmt not in ("JPEG", "WEBP") and image.dtype == np.uint8 and image.size <= _FAST_PNG_PIXELS:
            return encode_png(image)  # small images (digits): the cheap encoder
        image = from_array(image)
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB" if image.mode not in ("L", "RGB") else image.mode).save(buffer, "JPEG", quality=92)
    elif fmt == "WEBP":
        image.save(buffer, "WEBP", quality=92)
    else:
        image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def fit_max_side(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale (never upscale) so the longest side is at most ``max_side``."""
    width, height = image.size
    scale = max_side / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)

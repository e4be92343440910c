"""Image files in and out: safe decoding (limits checked before full decode) and encoding."""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from oneiros_server.errors import FieldError
from oneiros_server.settings import Settings
from oneiros_server.transport.convert.png import encode_png

_ALLOWED_INPUT = {"PNG", "JPEG", "WEBP", "MPO"}  # MPO: JPEGs from phone cameras
BACKGROUND = (255, 255, 255)  # transparent pixels are shown on white, as a viewer shows them
_UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error)
_FAST_PNG_PIXELS = 256 * 256 * 3


def _open(data: bytes, field: str, max_pixels: int) -> Image.Image:
    """Read the header only; refuse bombs and oversized images before any pixel is decoded."""
    too_big = f"image is larger than the limit of {max_pixels} pixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FieldError(field, too_big) from None
    except _UNREADABLE:
        raise FieldError(field, "image data could not be decoded as PNG, JPEG or WebP") from None
    if image.format not in _ALLOWED_INPUT:
        raise FieldError(field, f"image format {image.format} is not accepted; use PNG, JPEG or WebP")
    width, height = image.size
    if width < 1 or height < 1:
        raise FieldError(field, f"image has zero size ({width}x{height})")
    if width * height > max_pixels:
        raise FieldError(field, f"image is {width}x{height} = {width * height} pixels; {too_big}")
    return image


def to_8bit(image: Image.Image) -> Image.Image:
    """16-bit (``I;16*``), 32-bit integer (``I``) and float (``F``) grey images -> ``L``, scaled, not clipped.

    ``I;16`` and ``I`` holding 16-bit samples (as PNG does) are divided by 257; ``I`` beyond 16 bits
    and ``F`` outside [0, 1] are scaled from their own range; ``F`` within [0, 1] is multiplied by 255.
    """
    if not image.mode.startswith(("I", "F")):
        return image
    a = np.asarray(image)  # (H, W)
    if image.mode != "F" and a.min() >= 0 and a.max() <= 65535:
        # round(a / 257) in integers: the same bytes as the float path below, a fraction of its time
        return Image.fromarray(((a.astype(np.uint32) + 128) // 257).astype(np.uint8), "L")
    a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(a.min()), float(a.max())
    if image.mode == "F" and low >= 0.0 and high <= 1.0:
        scaled = a * 255.0
    elif image.mode != "F" and low >= 0 and high <= 65535:
        scaled = a / 257.0
    else:
        scaled = (a - low) * (255.0 / (high - low)) if high > low else np.zeros_like(a)
    return Image.fromarray(np.clip(scaled + 0.5, 0, 255).astype(np.uint8), "L")


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any decoded image -> ``mode`` ("RGB" or "L"): deep grey scaled, alpha flattened on BACKGROUND."""
    image = to_8bit(image)
    if image.mode == mode:
        return image
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (*BACKGROUND, 255)), rgba)
    return image.convert(mode)


def decode_image(
    data: bytes, field: str, *, max_bytes: int, max_pixels: int, mode: str = "RGB", max_side: int | None = None
) -> Image.Image:
    """Decode an encoded PNG/JPEG/WebP as it is displayed, into a PIL image of ``mode``.

    The header is read first: size and pixel count are checked before any pixel data is
    decoded, so decompression bombs cost nothing. Then: the first frame of an animation,
    EXIF orientation applied, 16/32-bit and float samples scaled to 8 bits, transparency
    flattened onto white, CMYK and palettes converted. With ``max_side``, the image is
    reduced while decoding (JPEG draft mode, then integer ``reduce``) and finally resized
    so that its longest side is at most ``max_side``.
    """
    if not data:
        raise FieldError(field, "image data is empty; send an encoded PNG, JPEG or WebP file")
    if len(data) > max_bytes:
        raise FieldError(field, f"image is {len(data)} bytes; the limit is {max_bytes}")
    image = _open(data, field, max_pixels)
    try:
        if max_side is not None and image.format in ("JPEG", "MPO"):
            image.draft("L" if mode == "L" else "RGB", (max_side, max_side))
        image.load()
        image = ImageOps.exif_transpose(image)
        image = to_mode(image, mode)
    except _UNREADABLE:
        raise FieldError(field, "image data could not be decoded as PNG, JPEG or WebP (truncated or corrupt)") from None
    if max_side is not None:
        factor = max(image.size) // max_side
        if factor >= 2:
            image = image.reduce(factor)
        image = fit_max_side(image, max_side)
    return image


def decode_job_image(data: bytes, field: str, settings: Settings) -> np.ndarray:
    """A Dream or Stylize input image as (H, W, 3) float32, reduced while decoding to the
    largest working side (``job_max_side``): no float copy of a huge photo."""
    image = decode_image(
        data,
        field,
        max_bytes=settings.max_image_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=settings.job_max_side,
    )
    return to_array(image)


def has_image(event: object) -> bool:
    """A job's event whose conversion encodes an image (a preview, or the result without
    ``preview``): it is converted on a worker thread, off the event loop."""
    return getattr(event, "preview", True) is not None


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

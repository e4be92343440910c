"""Image files as cameras, scanners and editors write them, for the corpus tests."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand: any header (a bomb's), 16-bit colour, or no pixel data at all."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    body = _chunk(b"IHDR", header)
    if rows is not None:
        body += _chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def png16_rgb(array: np.ndarray) -> bytes:
    """(H, W, 3) uint16 -> a 16-bit RGB PNG (Pillow cannot write one)."""
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in array)
    return raw_png(array.shape[1], array.shape[0], 16, 2, rows)


def save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def halves(width: int, height: int, left=RED, right=BLUE) -> Image.Image:
    """Left half ``left``, right half ``right`` (to see which way an image was turned)."""
    array = np.zeros((height, width, 3), np.uint8)
    array[:, : width // 2] = left
    array[:, width // 2 :] = right
    return Image.fromarray(array)


def exif_rotated_jpeg(width: int = 80, height: int = 40, orientation: int = 6) -> bytes:
    """Stored ``width`` x ``height`` with an EXIF Orientation tag, as phones save portrait photos."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(halves(width, height), "JPEG", exif=exif, quality=95)


def digit(size: int = 28) -> np.ndarray:
    """An anti-aliased ring, (size, size) float in [0, 1]: something with grey levels, like a digit."""
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - size / 2 + 0.5, y - size / 2 + 0.5)
    return np.clip(1.0 - np.abs(r - size / 4) / 2.0, 0.0, 1.0)

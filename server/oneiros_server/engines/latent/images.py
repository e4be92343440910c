"""Any input image -> the 28x28 white-on-black digit an MNIST encoder expects.

The conversion, in order (what the API documents for EditLatent image sources):

1. grayscale (ITU-R 601-2 luma; transparency was flattened onto white when the file was decoded);
2. polarity: MNIST digits are white on black, so an image whose 1-pixel border is bright on
   average (mean > 0.5, dark ink on paper) is inverted;
3. MNIST's own normalisation: crop to the ink's bounding box (pixels above 20% of the
   brightest), scale its longest side to 20 pixels (unless it is already 20 to 28 pixels
   long, as MNIST digits are), and place it in a 28x28 black square with its centre of mass
   at (14, 14) as in MNIST. An image with no ink is just resized to 28x28.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 28
BOX = 20


def _grayscale(image: Image.Image | np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1]."""
    if isinstance(image, Image.Image):
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    array = np.asarray(image)
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    array = array.astype(np.float32) / scale
    if array.ndim == 3:
        if array.shape[2] == 4:  # flatten alpha onto white
            array = array[..., :3] * array[..., 3:] + (1.0 - array[..., 3:])
        if array.shape[2] >= 3:
            array = array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114
        else:
            array = array[..., 0]
    return np.clip(array, 0.0, 1.0)


def _border_mean(x: np.ndarray) -> float:
    return float(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]]).mean())


def _resize(x: np.ndarray, width: int, height: int) -> np.ndarray:
    image = Image.fromarray(x.astype(np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0), dtype=np.float32)


def to_digit(image: Image.Image | np.ndarray) -> np.ndarray:
    """Convert any image (PIL, or an (H, W[, C]) uint8/float array) to (28, 28, 1) float32 in [0, 1]."""
    x = _grayscale(image)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"expected a 2-D image, got shape {x.shape}")
    if _border_mean(x) > 0.5:
        x = 1.0 - x
    peak = float(x.max())
    if peak <= 1e-3:
        return np.clip(_resize(x, SIDE, SIDE), 0.0, 1.0)[..., None]
    rows = np.flatnonzero((x > 0.2 * peak).any(1))
    cols = np.flatnonzero((x > 0.2 * peak).any(0))
    crop = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    if BOX <= max(h, w) <= SIDE:  # already digit-sized (e.g. MNIST itself): no resampling
        small, h2, w2 = crop, h, w
    else:
        scale = BOX / max(h, w)
        h2, w2 = max(1, round(h * scale)), max(1, round(w * scale))
        small = np.clip(_resize(crop, w2, h2), 0.0, 1.0)
    mass = max(float(small.sum()), 1e-6)
    cy = float((small.sum(1) * np.arange(h2)).sum()) / mass
    cx = float((small.sum(0) * np.arange(w2)).sum()) / mass
    top = int(np.clip(round(SIDE / 2 - cy), 0, SIDE - h2))
    left = int(np.clip(round(SIDE / 2 - cx), 0, SIDE - w2))
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    out[top : top + h2, left : left + w2] = small
    return out[..., None]


def to_model_image(image: Image.Image | np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Any image -> (H, W, C) float32 in [0, 1] for an encoder of ``shape``.

    A 28x28x1 encoder gets ``to_digit``'s MNIST normalisation; any other shape gets the image
    in grayscale (C = 1) or RGB (C = 3), resized to (H, W).
    """
    height, width, channels = shape
    if (height, width, channels) == (SIDE, SIDE, 1):
        return to_digit(image)
    if isinstance(image, np.ndarray):
        array = np.asarray(image)
        array = array if array.dtype == np.uint8 else (np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
        image = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array)
    mode = "L" if channels == 1 else "RGB"
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    resized = image.convert(mode).resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(resized, dtype=np.float32) / 255.0
    return pixels.reshape(height, width, channels)

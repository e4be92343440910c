"""Digit attributes measured from the pixels (numpy only): stroke thickness, slant, width.

Images are white ink on black, float in [0, 1], shaped (N, 28, 28) (a channel axis of 1,
first or last, is dropped). All measures are grey-level, so blurry decoder outputs measure
like the binary digits they resemble.

- thickness: ink area over half the boundary length, ``2 * sum(x) / TV(x)`` where TV is the
  total variation between 4-neighbours. For a stroke of width w and length L >> w this is w
  (pixels); blur keeps both sum and TV, so it is robust to soft edges.
- slant: horizontal shear of the ink's second moments, ``-cov(row, col) / var(row)``:
  columns moved per row going up; positive leans right (like /), 0 is upright.
- width: horizontal spread after removing the slant, ``sqrt(12) * std(col')`` (the width of a
  uniform bar with the same spread), in pixels.
"""

from __future__ import annotations

import numpy as np

NAMES = ("thickness", "slant", "width")
_EPS = 1e-6


def _as_nhw(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:
        x = x[:, 0] if x.shape[1] == 1 else x[..., 0]
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected (N, H, W) images, got shape {np.shape(images)}")
    return x


def thickness(images: np.ndarray) -> np.ndarray:
    x = _as_nhw(images)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    tv = np.abs(np.diff(padded, axis=1)).sum((1, 2)) + np.abs(np.diff(padded, axis=2)).sum((1, 2))
    return 2.0 * x.sum((1, 2)) / np.maximum(tv, _EPS)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per image: var(row), cov(row, col), var(col) of the ink, and the ink mass."""
    _, h, w = x.shape
    rows = np.arange(h, dtype=np.float64)[None, :, None]
    cols = np.arange(w, dtype=np.float64)[None, None, :]
    mass = np.maximum(x.sum((1, 2)), _EPS)
    r_mean = (x * rows).sum((1, 2)) / mass
    c_mean = (x * cols).sum((1, 2)) / mass
    dr = rows - r_mean[:, None, None]
    dc = cols - c_mean[:, None, None]
    var_r = (x * dr**2).sum((1, 2)) / mass
    cov = (x * dr * dc).sum((1, 2)) / mass
    var_c = (x * dc**2).sum((1, 2)) / mass
    return var_r, cov, var_c, mass


def slant(images: np.ndarray) -> np.ndarray:
    var_r, cov, _, _ = _moments(_as_nhw(images))
    return -cov / np.maximum(var_r, _EPS)


def width(images: np.ndarray) -> np.ndarray:
    var_r, cov, var_c, _ = _moments(_as_nhw(images))
    # var of col' = col - (cov / var_r) * row: the spread left once the shear is removed
    deslanted = np.maximum(var_c - cov**2 / np.maximum(var_r, _EPS), 0.0)
    return np.sqrt(12.0 * deslanted)


def measure(images: np.ndarray) -> dict[str, np.ndarray]:
    """All attributes of ``images``: name -> (N,) float64."""
    return {"thickness": thickness(images), "slant": slant(images), "width": width(images)}

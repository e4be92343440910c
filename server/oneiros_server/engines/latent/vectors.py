"""Latent-space geometry on numpy arrays: prior samples, grids, interpolation."""

from __future__ import annotations

import numpy as np


def prior_sample(count: int, size: int, seed: int | None) -> np.ndarray:
    """(count, size) standard-normal points; the same seed gives the same points."""
    return np.random.default_rng(seed).standard_normal((count, size), dtype=np.float32)


def grid_points(size: int, axis_x: int, axis_y: int, steps: int, extent: float) -> np.ndarray:
    """(steps * steps, size) points over two axes, row-major like a picture.

    Row i, column j holds x = -extent + j * d and y = +extent - i * d (so y grows upwards,
    as in Chollet's latent-grid figure); every other coordinate is 0.
    """
    xs = np.linspace(-extent, extent, steps, dtype=np.float32)
    ys = xs[::-1]
    points = np.zeros((steps, steps, size), dtype=np.float32)
    points[:, :, axis_x] = xs[None, :]
    points[:, :, axis_y] = ys[:, None]
    return points.reshape(steps * steps, size)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(D,), (D,), (T,) -> (T, D) straight-line points."""
    t = t[:, None]
    return (1.0 - t) * a[None, :] + t * b[None, :]


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(D,), (D,), (T,) -> (T, D) spherical interpolation (Shoemake; White 2016).

    ``sin((1-t)w)/sin(w) * a + sin(t w)/sin(w) * b`` with ``w`` the angle between a and b: the
    path bows outwards and stays in the shell where a Gaussian prior puts its mass. Falls back
    to lerp when a or b is ~0 or they are (anti)parallel.
    """
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if min(na, nb) < 1e-8:
        return lerp(a, b, t)
    omega = float(np.arccos(np.clip(np.dot(a / na, b / nb), -1.0, 1.0)))
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t)
    t = t[:, None]
    return (np.sin((1.0 - t) * omega) * a[None, :] + np.sin(t * omega) * b[None, :]) / np.sin(omega)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, kind: str = "LERP") -> np.ndarray:
    """(steps, D) points from a to b, both ends included exactly."""
    t = np.linspace(0.0, 1.0, steps)
    path = (slerp if kind == "SLERP" else lerp)(a.astype(np.float64), b.astype(np.float64), t)
    path[0], path[-1] = a, b
    return path.astype(np.float32)

"""Attribute vectors in a latent space and the measured checks that they work (VAE and GAN).

Vectors follow White (2016): for a measured attribute, mean latent of the top quartile minus
mean latent of the bottom quartile; for a digit class, mean latent of that class minus mean
latent of the rest. Strength 1 moves a point by that whole difference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from oneiros_training.attributes import measure
from oneiros_training.classifier import Classifier, predict_proba

Decode = Callable[[np.ndarray], np.ndarray]  # (N, D) latents -> (N, 28, 28, 1) in [0, 1]


def digit_name(c: int) -> str:
    return f"digit_{c}"


def attribute_vectors(z: np.ndarray, images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """z: (N, D) latents of ``images`` (N, 28, 28[, 1]) with digit ``labels`` (N,)."""
    vectors = {}
    for name, values in measure(images).items():
        lo, hi = np.quantile(values, [0.25, 0.75])
        vectors[name] = z[values >= hi].mean(0) - z[values <= lo].mean(0)
    for c in range(10):
        if (labels == c).any() and (labels != c).any():
            vectors[digit_name(c)] = z[labels == c].mean(0) - z[labels != c].mean(0)
    return {k: v.astype(np.float32) for k, v in vectors.items()}


def sweep_check(decode: Decode, z: np.ndarray, vectors: dict[str, np.ndarray], strengths: list[float]) -> dict:
    """Mean measured attribute of decode(z + s * v) for each strength s, per measured attribute."""
    out = {}
    for name in ("thickness", "slant", "width"):
        means = [float(measure(decode(z + s * vectors[name]))[name].mean()) for s in strengths]
        out[name] = {"strengths": strengths, "measured": means, "monotone": bool(np.all(np.diff(means) > 0))}
    return out


def class_check(
    decode: Decode,
    z: np.ndarray,
    labels: np.ndarray,
    vectors: dict[str, np.ndarray],
    classifier: Classifier,
    strength: float = 1.0,
    per_class: int = 50,
) -> dict:
    """For each class c: classifier p(c) on decoded digits of other classes, before and after + strength * v_c."""
    before, after, hits, raised = [], [], [], 0
    for c in range(10):
        name = digit_name(c)
        if name not in vectors:
            continue
        zc = z[labels != c][:per_class]
        p0 = class_probabilities(classifier, decode(zc))[:, c]
        p1 = class_probabilities(classifier, decode(zc + strength * vectors[name]))
        before.append(float(p0.mean()))
        after.append(float(p1[:, c].mean()))
        hits.append(float((p1.argmax(1) == c).mean()))
        raised += after[-1] > before[-1]
    return {
        "strength": strength,
        "prob_before": before,
        "prob_after": after,
        "mean_prob_before": float(np.mean(before)),
        "mean_prob_after": float(np.mean(after)),
        "mean_argmax_rate_after": float(np.mean(hits)),
        "classes_raised": int(raised),
        "classes": len(before),
    }


def class_probabilities(classifier: Classifier, images: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28, 1) in [0, 1] -> the classifier's class probabilities (N, 10)."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).permute(0, 3, 1, 2)  # (N, 1, 28, 28)
    return predict_proba(classifier, x).numpy()


def check_metrics(sweeps: dict, classes: dict) -> dict[str, float]:
    """Flat figures for ``model.json`` metrics."""
    t = sweeps["thickness"]["measured"]
    return {
        "thickness_sweep_low": t[0],
        "thickness_sweep_high": t[-1],
        "thickness_monotone": float(sweeps["thickness"]["monotone"]),
        "slant_monotone": float(sweeps["slant"]["monotone"]),
        "width_monotone": float(sweeps["width"]["monotone"]),
        "class_prob_before": classes["mean_prob_before"],
        "class_prob_after": classes["mean_prob_after"],
        "class_argmax_rate_after": classes["mean_argmax_rate_after"],
        "classes_raised": float(classes["classes_raised"]),
    }

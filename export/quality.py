"""Sample quality judged by the small MNIST classifier: class balance, confidence, Frechet distance.

- ``class_entropy_bits``: entropy of the predicted-class histogram (log2 10 = 3.32 = perfectly balanced);
- ``inception_score``: exp(E_x KL(p(y|x) || p(y))), at most 10 for MNIST (Salimans et al. 2016);
- ``mean_confidence``: mean max-class probability (sharp, unambiguous digits score high);
- ``frechet_distance``: between Gaussians fitted to the classifier's penultimate features of the
  samples and of held-out digits (FID with the MNIST classifier in place of Inception).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from training.classifier import Classifier


@torch.no_grad()
def _probs_features(classifier: Classifier, images: np.ndarray, batch_size: int = 1000):
    """(N, 28, 28, 1) in [0, 1] -> probabilities (N, 10), features (N, H)."""
    classifier.eval()
    probs, feats = [], []
    for i in range(0, len(images), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size], np.float32)).permute(0, 3, 1, 2)
        h = classifier.features(x)  # (B, H)
        feats.append(h.double().numpy())
        probs.append(F.softmax(classifier.head(h), -1).double().numpy())
    return np.concatenate(probs), np.concatenate(feats)


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(Sa + Sb - 2 (Sa^1/2 Sb Sa^1/2)^1/2) for feature sets (N, H), (M, H)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = _sqrtm_psd(sa)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ sb @ root), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2.0 * cross)


def sample_quality(classifier: Classifier, samples: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Figures for ``samples`` (N, 28, 28, 1) against held-out ``reference`` digits (M, 28, 28, 1)."""
    probs, feats = _probs_features(classifier, samples)
    _, ref_feats = _probs_features(classifier, reference)
    hist = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    entropy = -(hist[hist > 0] * np.log2(hist[hist > 0])).sum()
    marginal = probs.mean(0, keepdims=True)
    kl = (probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    return {
        "class_entropy_bits": float(entropy),
        "inception_score": float(np.exp(kl.mean())),
        "mean_confidence": float(probs.max(1).mean()),
        "frechet_distance": frechet_distance(feats, ref_feats),
    }

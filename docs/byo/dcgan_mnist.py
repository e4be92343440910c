"""The chapter's DCGAN, sized for MNIST (28x28 grayscale), in Keras 3 on the torch backend.

    KERAS_BACKEND=torch .venv/bin/python docs/byo/dcgan_mnist.py --epochs 2 --limit 16000 --out runs/byo

saves ``generator.keras`` (the ``GAN`` model itself is not needed to serve it). The training step
is the chapter's, written for PyTorch as in keras.io's "DCGAN with PyTorch" guide: the
discriminator learns fake = 1, real = 0 (with a little label noise); the generator learns to be
called real.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 - the backend is chosen before Keras is imported
import torch  # noqa: E402
from keras import layers, ops  # noqa: E402

from oneiros_training.mnist import load_mnist  # noqa: E402

latent_dim = 32


def build_discriminator() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )


def build_generator() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 64),
            layers.Reshape((7, 7, 64)),
            layers.Conv2DTranspose(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


class GAN(keras.Model):
    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    def call(self, images):
        return self.discriminator(images)

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def _step(self, model, optimizer, loss):
        self.zero_grad()
        loss.backward()
        grads = [v.value.grad for v in model.trainable_weights]
        with torch.no_grad():
            optimizer.apply(grads, model.trainable_weights)

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        z = keras.random.normal((batch_size, latent_dim), seed=self.seed_generator)
        generated = self.generator(z).detach()
        images = ops.concatenate([generated, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        labels = ops.clip(labels, 0.0, 1.0)  # torch's binary cross-entropy wants targets in [0, 1]
        d_loss = self.loss_fn(labels, self.discriminator(images))
        self._step(self.discriminator, self.d_optimizer, d_loss)

        z = keras.random.normal((batch_size, latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        g_loss = self.loss_fn(misleading_labels, self.discriminator(self.generator(z)))
        self._step(self.generator, self.g_optimizer, g_loss)

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N digits only (0 = all 50,000)")
    parser.add_argument("--out", type=Path, default=Path("runs/byo"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (more fight on a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    keras.utils.set_random_seed(0)
    digits = load_mnist()["train"].images.numpy().transpose(0, 2, 3, 1)[: args.limit or None]  # (N, 28, 28, 1)
    gan = GAN(build_discriminator(), build_generator())
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    gan.fit(digits, epochs=args.epochs, batch_size=64)
    args.out.mkdir(parents=True, exist_ok=True)
    gan.generator.save(args.out / "generator.keras")
    print(f"saved {args.out}/generator.keras")


if __name__ == "__main__":
    main()

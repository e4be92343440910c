"""A DCGAN generator for MNIST, trained with the hinge loss and a spectrally normalised critic.

    python -m oneiros_training.gan --latent-dim 32 --steps 3000 --out runs/gan-mnist

Why hinge + spectral norm (Miyato et al. 2018) rather than the original DCGAN loss: the
discriminator stays 1-Lipschitz, so it cannot saturate and starve the generator of gradient;
on a CPU budget of a few thousand steps this trains reliably without per-run tuning, which
plain DCGAN does not. The generator keeps the DCGAN shape (dense -> transposed convs, batch
norm, ReLU) and ends in a sigmoid, so its images are in [0, 1] like the VAE decoder's.
Writes ``<out>/gan.pt`` and a fixed-seed 8x8 sample grid every ``--sample-every`` steps.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch.nn.utils.parametrizations import spectral_norm
from tqdm import tqdm

from oneiros_training.mnist import SOURCE, Split, load_mnist


@dataclass
class GANConfig:
    latent_dim: int = 32
    width: int = 32  # generator channels at 14x14; twice as many at 7x7
    critic_width: int = 64  # the same for the critic


class Generator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        c = cfg.width
        self.c = c
        self.fc = nn.Sequential(nn.Linear(cfg.latent_dim, 2 * c * 49), nn.BatchNorm1d(2 * c * 49), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 2 * self.c, 7, 7)  # (B, 2c, 7, 7)
        return torch.sigmoid(self.deconv(h))  # (B, 1, 28, 28) in [0, 1]


class Critic(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        c = cfg.critic_width
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(1, c, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),  # (B, c, 14, 14)
            spectral_norm(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),  # (B, 2c, 7, 7)
            nn.Flatten(),
            spectral_norm(nn.Linear(2 * c * 49, 1)),  # (B, 1) score
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0).squeeze(1)  # (B,)


def sample_grid(generator: Generator, z: torch.Tensor, path: Path, side: int = 8) -> None:
    """Save ``side x side`` images of ``generator(z)`` as one PNG."""
    generator.eval()
    with torch.no_grad():
        images = generator(z[: side * side]).squeeze(1).numpy()  # (N, 28, 28)
    generator.train()
    grid = images.reshape(side, side, 28, 28).transpose(0, 2, 1, 3).reshape(side * 28, side * 28)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((grid * 255 + 0.5).astype(np.uint8)).save(path)


def train_gan(
    train: Split,
    cfg: GANConfig,
    steps: int = 3000,
    batch_size: int = 64,
    lr_g: float = 2e-4,
    lr_d: float = 4e-4,
    seed: int = 0,
    samples: Path | None = None,
    sample_every: int = 500,
    progress: bool = True,
) -> tuple[Generator, dict]:
    """Hinge-loss GAN training (two time-scale learning rates); returns the generator in eval mode."""
    torch.manual_seed(seed)
    gen, critic = Generator(cfg), Critic(cfg)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr_d, betas=(0.0, 0.9))
    fixed_z = torch.randn(64, cfg.latent_dim, generator=torch.Generator().manual_seed(1234))
    start = time.monotonic()
    bar = tqdm(range(1, steps + 1), desc="gan", disable=not progress, mininterval=2.0)
    for step in bar:
        real = train.images[torch.randint(len(train), (batch_size,))]  # (B, 1, 28, 28)
        fake = gen(torch.randn(batch_size, cfg.latent_dim))  # (B, 1, 28, 28)
        loss_d = F.relu(1.0 - critic(real)).mean() + F.relu(1.0 + critic(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = -critic(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if step % 50 == 0:
            bar.set_postfix(d=f"{loss_d.item():.3f}", g=f"{loss_g.item():.3f}")
        if samples is not None and (step % sample_every == 0 or step == steps):
            sample_grid(gen, fixed_z, samples / f"step_{step:06d}.png")
    gen.eval()
    record = {
        "data": SOURCE,
        "train_images": len(train),
        "steps": steps,
        "batch_size": batch_size,
        "lr_g": lr_g,
        "lr_d": lr_d,
        "loss": "hinge, spectral-norm critic",
        "seed": seed,
        "seconds": round(time.monotonic() - start, 1),
        "threads": torch.get_num_threads(),
    }
    return gen, record


def save_checkpoint(gen: Generator, cfg: GANConfig, record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"generator": gen.state_dict(), "config": asdict(cfg), "training": record}, path)


def load_checkpoint(path: Path) -> tuple[Generator, GANConfig, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = GANConfig(**ckpt["config"])
    gen = Generator(cfg)
    gen.load_state_dict(ckpt["generator"])
    return gen.eval(), cfg, ckpt["training"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--latent-dim", type=int, default=32)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--critic-width", type=int, default=64)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--out", type=Path, required=True, help="folder for gan.pt and samples/")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = GANConfig(latent_dim=args.latent_dim, width=args.width, critic_width=args.critic_width)
    gen, record = train_gan(
        load_mnist()["train"],
        cfg,
        args.steps,
        args.batch_size,
        seed=args.seed,
        samples=args.out / "samples",
        sample_every=args.sample_every,
    )
    record["command"] = "python -m oneiros_training.gan " + shlex.join(argv if argv is not None else sys.argv[1:])
    save_checkpoint(gen, cfg, record, args.out / "gan.pt")
    print(f"{record['seconds']} s -> {args.out / 'gan.pt'}")


if __name__ == "__main__":
    main()

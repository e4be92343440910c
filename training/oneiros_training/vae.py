"""A compact convolutional VAE for MNIST (Chollet ch. 12, Kingma & Welling 2014).

    python -m oneiros_training.vae --latent-dim 2 --epochs 10 --out runs/vae-mnist-2d

writes ``<out>/vae.pt`` (weights, config, training record). Export with ``python -m oneiros_export.vae``.
The likelihood is Bernoulli on the grey levels, so every loss is in nats per image.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from oneiros_training.mnist import SOURCE, Split, load_mnist


@dataclass
class VAEConfig:
    latent_dim: int = 2
    width: int = 32  # channels of the first conv; doubled once
    hidden: int = 128


class Encoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        c = cfg.width
        self.conv = nn.Sequential(
            nn.Conv2d(1, c, 3, stride=2, padding=1),
            nn.ReLU(),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.ReLU(),  # (B, 2c, 7, 7)
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(2 * c * 49, cfg.hidden), nn.ReLU())  # (B, H)
        self.mean = nn.Linear(cfg.hidden, cfg.latent_dim)  # (B, D)
        self.logvar = nn.Linear(cfg.hidden, cfg.latent_dim)  # (B, D)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.fc(self.conv(x))  # x: (B, 1, 28, 28) -> (B, H)
        return self.mean(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        c = cfg.width
        self.c = c
        self.fc = nn.Sequential(nn.Linear(cfg.latent_dim, 2 * c * 49), nn.ReLU())  # (B, 2c*49)
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, c/2, 28, 28)
            nn.Conv2d(c // 2, 1, 3, padding=1),  # (B, 1, 28, 28) logits
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 2 * self.c, 7, 7)  # (B, 2c, 7, 7)
        return self.deconv(h)  # (B, 1, 28, 28) Bernoulli logits


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(x)  # (B, D) each
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)  # reparameterisation
        return self.decoder(z), mean, logvar


def vae_loss(logits, x, mean, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction NLL and KL(q(z|x) || N(0, I)), both (B,) in nats."""
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
    return recon, kl


@torch.no_grad()
def evaluate(model: VAE, split: Split, batch_size: int = 500, seed: int = 0) -> dict[str, float]:
    """Held-out negative ELBO (one posterior sample per image, fixed seed), in nats per image."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    recon_sum = kl_sum = 0.0
    for i in range(0, len(split), batch_size):
        x = split.images[i : i + batch_size]
        mean, logvar = model.encoder(x)
        eps = torch.randn(mean.shape, generator=gen)
        recon, kl = vae_loss(model.decoder(mean + eps * torch.exp(0.5 * logvar)), x, mean, logvar)
        recon_sum += recon.sum().item()
        kl_sum += kl.sum().item()
    n = len(split)
    return {"neg_elbo_nats": (recon_sum + kl_sum) / n, "recon_nats": recon_sum / n, "kl_nats": kl_sum / n}


def train_vae(
    train: Split,
    cfg: VAEConfig,
    epochs: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> tuple[VAE, dict]:
    """Train on ``train``; ``epochs`` may be fractional. Returns the model and a training record."""
    torch.manual_seed(seed)
    model = VAE(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(train) / batch_size)
    total = max(1, round(epochs * steps_per_epoch))
    start = time.monotonic()
    model.train()
    bar = tqdm(range(total), desc="vae", disable=not progress, mininterval=2.0)
    perm = torch.randperm(len(train))
    for step in bar:
        if step % steps_per_epoch == 0 and step:
            perm = torch.randperm(len(train))
        idx = perm[(step % steps_per_epoch) * batch_size :][:batch_size]
        x = train.images[idx]  # (B, 1, 28, 28)
        logits, mean, logvar = model(x)
        recon, kl = vae_loss(logits, x, mean, logvar)
        loss = (recon + kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.1f}", kl=f"{kl.mean().item():.1f}")
    model.eval()
    record = {
        "data": SOURCE,
        "train_images": len(train),
        "epochs": epochs,
        "steps": total,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "seconds": round(time.monotonic() - start, 1),
        "threads": torch.get_num_threads(),
    }
    return model, record


def save_checkpoint(model: VAE, record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "config": asdict(model.cfg), "training": record}, path)


def load_checkpoint(path: Path) -> tuple[VAE, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = VAE(VAEConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt["training"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--epochs", type=float, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--out", type=Path, required=True, help="folder for vae.pt")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_mnist()
    cfg = VAEConfig(latent_dim=args.latent_dim, width=args.width)
    model, record = train_vae(data["train"], cfg, args.epochs, args.batch_size, args.lr, args.seed)
    record["command"] = "python -m oneiros_training.vae " + shlex.join(argv if argv is not None else sys.argv[1:])
    record["valid"] = evaluate(model, data["valid"])
    save_checkpoint(model, record, args.out / "vae.pt")
    print(f"valid {record['valid']}  ({record['seconds']} s) -> {args.out / 'vae.pt'}")


if __name__ == "__main__":
    main()

"""A small MNIST convnet: the judge of attribute edits (and of GAN samples).

    python -m oneiros_training.classifier --epochs 2 --out runs/classifier

writes ``<out>/classifier.pt``. ``features()`` gives the penultimate layer (for a Frechet distance).
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from oneiros_training.mnist import SOURCE, Split, load_mnist


class Classifier(nn.Module):
    def __init__(self, width: int = 16, hidden: int = 64):
        super().__init__()
        self.width, self.hidden = width, hidden
        self.conv = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2w, 7, 7)
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 49, hidden), nn.ReLU())  # (B, H)
        self.head = nn.Linear(hidden, 10)  # (B, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))  # x: (B, 1, 28, 28) -> (B, H)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10) logits


@torch.no_grad()
def predict_proba(model: Classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """(N, 1, 28, 28) in [0, 1] -> (N, 10) class probabilities."""
    model.eval()
    return torch.cat([F.softmax(model(images[i : i + batch_size]), -1) for i in range(0, len(images), batch_size)])


@torch.no_grad()
def accuracy(model: Classifier, split: Split) -> float:
    return (predict_proba(model, split.images).argmax(1) == split.labels).float().mean().item()


def train_classifier(
    train: Split,
    epochs: float = 1.0,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    width: int = 16,
    progress: bool = True,
) -> tuple[Classifier, dict]:
    torch.manual_seed(seed)
    model = Classifier(width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(train) / batch_size)
    total = max(1, round(epochs * steps_per_epoch))
    start = time.monotonic()
    model.train()
    perm = torch.randperm(len(train))
    bar = tqdm(range(total), desc="classifier", disable=not progress, mininterval=2.0)
    for step in bar:
        if step % steps_per_epoch == 0 and step:
            perm = torch.randperm(len(train))
        idx = perm[(step % steps_per_epoch) * batch_size :][:batch_size]
        loss = F.cross_entropy(model(train.images[idx]), train.labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    record = {"data": SOURCE, "epochs": epochs, "steps": total, "seconds": round(time.monotonic() - start, 1)}
    return model, record


def save_classifier(model: Classifier, record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "width": model.width, "training": record}, path)


def load_classifier(path: Path) -> Classifier:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = Classifier(ckpt["width"])
    model.load_state_dict(ckpt["model"])
    return model.eval()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=float, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--out", type=Path, required=True, help="folder for classifier.pt")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_mnist()
    model, record = train_classifier(data["train"], args.epochs, seed=args.seed)
    record["command"] = "python -m oneiros_training.classifier " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    record["test_accuracy"] = accuracy(model, data["test"])
    save_classifier(model, record, args.out / "classifier.pt")
    print(f"test accuracy {record['test_accuracy']:.4f} ({record['seconds']} s) -> {args.out / 'classifier.pt'}")


if __name__ == "__main__":
    main()

"""Train a feed-forward style network (``style_net.StyleNet``) for one painting.

The loss is the project's Gatys objective (``oneiros_server.engines.convnet.style_loss``),
with the default layers and weights of the shared VGG19 model's ``parameters.stylize``, on
the same frozen backbone the server loads: content at an upper layer against the
photo, Gram matrices over several layers against the painting, total variation. The
painting is analysed once, at about ``--style-side`` squared pixels (its aspect kept),
the pixel count the network's outputs are judged at. The backbone runs in bfloat16
autocast where ``--precision auto`` picks it (see ``runtime/precision.py``); the network,
its optimiser and the losses stay float32.

Content: random square crops at several scales (a side between ``--size`` and the
photo's shorter side, resized to ``--size``) with random horizontal flips, of the photos
that ``style_photos.prepare()`` collects (or of ``--photos DIR``).

The run's folder holds ``train.log.jsonl``, ``last.pt`` (every ``--checkpoint-every``
steps: weights, optimiser, step, elapsed time, random state; a rerun with the same
``--out`` resumes from it) and ``final.pt``. Adam with a cosine schedule that follows
whichever of ``--steps`` / ``--minutes`` runs out first; tqdm shows the time left.
``--style-warmup-weight W --style-warmup-steps N`` trains the first N steps with style weight
W: at the default weight a new network sits near the identity for hundreds of steps, and a
heavier style weight first gets the strokes going (on its own it wipes out the content).

    python -m oneiros_training.style_train painting.jpg --out runs/style-x --minutes 20
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from oneiros_server.engines.convnet.dream import resize
from oneiros_server.engines.convnet.style_loss import LossParts, Targets, Weights, gram, objective
from oneiros_server.engines.convnet.stylize_params import BUILTIN_DEFAULTS
from oneiros_server.runtime.precision import Precision, choose_precision
from oneiros_server.runtime.vgg19 import VGG19Features, load_vgg19
from oneiros_server.settings import default_model_repository
from oneiros_training.style_net import StyleNet, StyleNetConfig, grow, parameter_count
from oneiros_training.style_photos import load_photos


def stylize_defaults() -> dict:
    """The shared VGG19's ``parameters.stylize`` (what Gatys uses by default), over the built-ins."""
    manifest = default_model_repository() / "vgg19-imagenet" / "1" / "model.json"
    return {**BUILTIN_DEFAULTS, **json.loads(manifest.read_text())["parameters"].get("stylize", {})}


def loss_weights(args: argparse.Namespace) -> Weights:
    d = stylize_defaults()
    return Weights(
        d["content_weight"] if args.content_weight is None else args.content_weight,
        d["style_weight"] if args.style_weight is None else args.style_weight,
        d["tv_weight"] if args.tv_weight is None else args.tv_weight,
        {k: float(v) for k, v in d["style_layers"].items() if v},
        tuple(d["content_layers"]),
    )


def read_rgb(path: Path) -> torch.Tensor:
    """An image file -> (1, 3, H, W) float32 in [0, 1]."""
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def style_grams(backbone: VGG19Features, precision: Precision, painting: torch.Tensor, side: int, layers: list[str]):
    """The painting's Gram matrices at about side*side pixels, its aspect ratio kept."""
    h, w = painting.shape[-2:]
    scale = side / math.sqrt(h * w)
    with torch.no_grad(), precision.autocast():
        feats = backbone(resize(painting, (round(h * scale), round(w * scale))), layers)
    return {name: gram(feats[name]).float() for name in layers}


class CropSampler:
    """Random square crops at several scales, resized to ``size``, randomly flipped."""

    def __init__(self, photos: list[np.ndarray], size: int, rng: np.random.Generator):
        self.photos, self.size, self.rng = photos, size, rng

    def one(self) -> np.ndarray:
        photo = self.photos[self.rng.integers(len(self.photos))]
        h, w = photo.shape[:2]
        side = int(self.rng.integers(min(self.size, h, w), min(h, w) + 1))
        y, x = self.rng.integers(h - side + 1), self.rng.integers(w - side + 1)
        crop = Image.fromarray(photo[y : y + side, x : x + side]).resize((self.size, self.size), Image.Resampling.BOX)
        array = np.asarray(crop, dtype=np.float32) / 255  # (size, size, 3)
        return array[:, ::-1] if self.rng.random() < 0.5 else array

    def batch(self, n: int) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.one() for _ in range(n)])).permute(0, 3, 1, 2).contiguous()


def batch_loss(backbone, precision, out, content, grams, weights: Weights) -> LossParts:
    """The Gatys objective of each output against its own photo, averaged over the batch."""
    with torch.no_grad(), precision.autocast():
        content_feats = backbone(content, list(weights.content_layers))
    with precision.autocast():
        feats = backbone(out, weights.layers)
    parts = []
    for i in range(out.shape[0]):
        targets = Targets({k: v[i : i + 1].float() for k, v in content_feats.items()}, grams)
        parts.append(objective(out[i : i + 1], {k: v[i : i + 1] for k, v in feats.items()}, targets, weights))
    mean = [sum(getattr(p, f) for p in parts) / len(parts) for f in ("total", "content", "style", "tv")]
    return LossParts(*mean)


def start_network(args: argparse.Namespace) -> tuple[StyleNet, dict | None]:
    """A new network of ``--width``/``--blocks``: random, or ``--grow-from``'s trained one, grown
    (``style_net.grow``: the same function, room to learn more)."""
    config = StyleNetConfig(args.width, args.blocks)
    if not args.grow_from:
        return StyleNet(config), None
    state = torch.load(args.grow_from, map_location="cpu", weights_only=False)
    small = StyleNet(StyleNetConfig(**state["meta"]["config"]))
    small.load_state_dict(state["net"])
    steps = state.get("step", state["meta"].get("steps"))
    minutes = round(state["elapsed_s"] / 60, 1) if "elapsed_s" in state else state["meta"].get("minutes")
    cpu = round(state["cpu_s"] / 60, 1) if "cpu_s" in state else state["meta"].get("cpu_minutes")
    grown_from = {"checkpoint": str(args.grow_from), "config": small.config.to_dict(), "steps": steps}
    grown_from["args"] = state["meta"]["args"]  # how the small network was trained
    if "grown_from" in state["meta"]:  # a chain of stages: each keeps the one before it
        grown_from["grown_from"] = state["meta"]["grown_from"]
    return grow(small, config), grown_from | {"minutes": minutes, "cpu_minutes": cpu}


def schedule(args: argparse.Namespace, step: int, elapsed_s: float) -> tuple[float, float]:
    """(progress in [0, 1], learning rate): cosine from --lr to --lr-min over the budget, after a
    linear ramp over the first --lr-warmup-steps (a fresh Adam's first steps move every weight
    by about the learning rate, which knocks a grown network far off what it had learnt)."""
    budget = args.minutes * 60 if args.minutes else float("inf")
    progress = min(1.0, max(step / args.steps, elapsed_s / budget))
    ramp = min(1.0, (step + 1) / args.lr_warmup_steps) if args.lr_warmup_steps else 1.0
    return progress, ramp * (args.lr_min + (args.lr - args.lr_min) * 0.5 * (1 + math.cos(math.pi * progress)))


def train(args: argparse.Namespace) -> Path:
    """Train (or resume) into ``args.out``; returns the path of ``final.pt``."""
    from tqdm import tqdm

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    precision = choose_precision(args.precision, torch.device("cpu"))
    backbone = load_vgg19()
    weights = loss_weights(args)
    warm = replace(weights, style=weights.style if args.style_warmup_weight is None else args.style_warmup_weight)
    painting = read_rgb(Path(args.painting))
    grams = style_grams(backbone, precision, painting, args.style_side, list(weights.style_layers))
    net, grown_from = start_network(args)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    step, elapsed, cpu, rng = 0, 0.0, 0.0, np.random.default_rng(args.seed)
    if (out / "last.pt").exists():
        state = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, cpu, rng = state["step"], state["elapsed_s"], state.get("cpu_s", 0.0), state["rng"]
        tqdm.write(f"resuming {out / 'last.pt'} at step {step} ({elapsed / 60:.1f} min)")
    sampler = CropSampler(load_photos(Path(args.photos) if args.photos else None), args.size, rng)
    meta = {
        "config": net.config.to_dict(),
        "parameters": parameter_count(net),
        "precision": precision.name,
        "precision_reason": precision.reason,
        "weights": {"content": weights.content, "style": weights.style, "tv": weights.tv},
        "style_warmup": {"weight": warm.style, "steps": args.style_warmup_steps},
        "style_layers": weights.style_layers,
        "content_layers": list(weights.content_layers),
        "args": vars(args),
    }
    if grown_from:
        meta["grown_from"] = grown_from

    def save(path: Path) -> None:
        state = {"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "elapsed_s": elapsed}
        state["cpu_s"] = cpu
        torch.save(state | {"rng": sampler.rng, "meta": meta}, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)

    log = open(out / "train.log.jsonl", "a")
    bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n:.1f}/100% [{elapsed}<{remaining}] {postfix}")
    progress, lr = schedule(args, step, elapsed)
    bar.update(100 * progress)
    while progress < 1:
        started, cpu_started = time.monotonic(), time.process_time()
        for group in optimizer.param_groups:
            group["lr"] = lr
        content = sampler.batch(args.batch)  # (B, 3, S, S)
        step_weights = warm if step < args.style_warmup_steps else weights
        parts = batch_loss(backbone, precision, net.raw(content), content, grams, step_weights)
        optimizer.zero_grad(set_to_none=True)
        parts.total.backward()
        optimizer.step()
        step, elapsed = step + 1, elapsed + time.monotonic() - started
        cpu += time.process_time() - cpu_started
        total, content_loss, style_loss, tv = parts.floats()
        record = dict(step=step, minutes=round(elapsed / 60, 2), cpu_minutes=round(cpu / 60, 2), lr=round(lr, 6))
        record |= dict(loss=total, content=content_loss, style_weight=step_weights.style)
        print(json.dumps(record | dict(style=style_loss, tv=tv)), file=log, flush=True)
        bar.set_postfix_str(f"step {step} loss {total:.3g} (content {content_loss:.3g}, style {style_loss:.3g})")
        new_progress, lr = schedule(args, step, elapsed)
        bar.update(100 * (new_progress - progress))
        progress = new_progress
        if step % args.checkpoint_every == 0:
            save(out / "last.pt")
    bar.close()
    save(out / "last.pt")
    final = out / "final.pt"
    meta |= {"steps": step, "minutes": round(elapsed / 60, 1), "cpu_minutes": round(cpu / 60, 1)}
    torch.save({"net": net.state_dict(), "meta": meta}, final)
    return final


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The trainer's arguments (shared with ``oneiros-train-style``)."""
    p.add_argument("painting", help="the style image (a painting)")
    p.add_argument("--photos", help="folder of content photos (default: the prepared offline set)")
    p.add_argument("--size", type=int, default=256, help="training crop side, px")
    p.add_argument("--style-side", type=int, default=448, help="the painting is analysed at about this side squared")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--width", type=int, default=16, help="network width (channels after the first convolution)")
    p.add_argument("--blocks", type=int, default=3, help="residual blocks")
    p.add_argument("--grow-from", help="start from this smaller trained network (final.pt/last.pt), grown")
    p.add_argument("--steps", type=int, default=2000, help="most optimiser steps")
    p.add_argument("--minutes", type=float, default=0, help="wall-clock budget (0 = none); whichever ends first")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-min", type=float, default=1e-4)
    p.add_argument("--lr-warmup-steps", type=int, default=0, help="linear learning-rate ramp (for --grow-from)")
    p.add_argument("--content-weight", type=float, help="default: the shared VGG19's Stylize default")
    p.add_argument("--style-weight", type=float, help="default: the shared VGG19's Stylize default")
    p.add_argument(
        "--style-warmup-weight", type=float, help="style weight for the first --style-warmup-steps (strokes first)"
    )
    p.add_argument("--style-warmup-steps", type=int, default=0)
    p.add_argument("--tv-weight", type=float, help="default: the shared VGG19's Stylize default")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto", help="the backbone's")
    p.add_argument("--checkpoint-every", type=int, default=25, help="steps between last.pt saves")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    p.add_argument("--seed", type=int, default=0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.add_argument("--out", required=True, help="the run's folder (resumes from its last.pt)")
    print(train(p.parse_args(argv)))


if __name__ == "__main__":
    main()

"""What the character language models' training runs share: the schedule, the metadata, the log."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from oneiros_training.corpus import KJV_SOURCE, Split


def learning_rate(args: argparse.Namespace, step: int, elapsed_s: float) -> float | None:
    """Linear warm-up over ``args.warmup`` steps, then a cosine from ``args.lr`` to ``args.lr_min``
    that follows whichever of ``args.steps`` / ``args.minutes`` runs out first; None when it has."""
    budget = args.minutes * 60 if args.minutes else float("inf")
    progress = max(step / args.steps, elapsed_s / budget)
    if progress >= 1:
        return None
    warm = min(1.0, (step + 1) / args.warmup)
    return warm * (args.lr_min + (args.lr - args.lr_min) * 0.5 * (1 + math.cos(math.pi * progress)))


def corpus_meta(args: argparse.Namespace, data: Split, parameters: int) -> dict:
    """The checkpoint metadata about the text, its split, the model's size and the command's arguments."""
    return {
        "data": KJV_SOURCE if args.text in (None, "kjv") else str(args.text),
        "heldout_fraction": args.heldout,
        "train_chars": len(data.train),
        "heldout_chars": len(data.heldout),
        "parameters": parameters,
        "args": vars(args),
    }


def add_corpus_args(p: argparse.ArgumentParser, out: str) -> None:
    """The text, the run's folder and the held-out split, as both trainers take them."""
    p.add_argument("--text", default="kjv", help="text file to train on, or 'kjv' (default)")
    p.add_argument("--out", default=out, help="folder for checkpoints and the log")
    p.add_argument("--heldout", type=float, default=0.05, help="last fraction of the text held out")


def add_schedule_args(p: argparse.ArgumentParser, *, steps: int, lr: float, warmup: int, eval_chars: int) -> None:
    """Steps or minutes, the learning-rate schedule (see ``learning_rate``), evaluation, threads, seed."""
    p.add_argument("--steps", type=int, default=steps, help="most optimiser steps")
    p.add_argument(
        "--minutes",
        type=float,
        default=0,
        help="wall-clock budget (0 = none); the schedule follows whichever ends first",
    )
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--lr-min", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=warmup)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-chars", type=int, default=eval_chars, help="held-out chars per periodic eval (0 = all)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    p.add_argument("--seed", type=int, default=0)


class RunFiles:
    """A run's folder: ``train.log.jsonl`` (appended), ``last.pt``, ``best.pt`` (the lowest
    held-out bpc so far) and ``final.pt``; ``save(path, rec)`` writes one checkpoint."""

    def __init__(self, out: Path, save: Callable[[Path, dict], None]):
        out.mkdir(parents=True, exist_ok=True)
        self.out, self.save = out, save
        self.log: TextIO = open(out / "train.log.jsonl", "a")
        self.best = float("inf")

    def _record(self, rec: dict) -> None:
        from tqdm import tqdm

        print(json.dumps(rec), file=self.log, flush=True)
        tqdm.write(json.dumps(rec))

    def periodic(self, rec: dict) -> None:
        """A periodic evaluation: logged, ``last.pt``, and ``best.pt`` when it is the best yet."""
        self._record(rec)
        self.save(self.out / "last.pt", rec)
        if rec["heldout_bpc"] < self.best:
            self.best = rec["heldout_bpc"]
            self.save(self.out / "best.pt", rec)

    def final(self, rec: dict) -> None:
        """The end of the run: logged and ``final.pt``."""
        self._record(rec)
        self.save(self.out / "final.pt", rec)
        self.log.close()

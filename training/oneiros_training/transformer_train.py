"""Training the character Transformer on the KJV split, with held-out bits per character.

Batches are random ``block``-character windows of the training text; AdamW with linear
warm-up and a cosine decay that follows whichever of ``--steps`` / ``--minutes`` runs out
first. Every ``--eval-every`` steps a JSONL record (held-out bpc on ``--eval-chars``) goes
to ``train.log.jsonl`` and ``last.pt`` is rewritten, so a stopped run loses little.

    python -m oneiros_training.transformer --text kjv --out runs/transformer-kjv --minutes 80
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from oneiros_training.corpus import Vocabulary, load_text, split
from oneiros_training.lm_run import RunFiles, add_corpus_args, add_schedule_args, corpus_meta, learning_rate
from oneiros_training.transformer import CharTransformer, TransformerConfig


@torch.no_grad()
def bits_per_char(model: CharTransformer, ids: np.ndarray, batch: int = 16) -> float:
    """Mean -log2 p(next char) over ``ids``: windows of ``block`` chars, stride ``block // 2``.

    Each window scores only the characters no earlier window scored, so every character
    after the first window is predicted with at least ``block // 2`` characters of context.
    """
    was_training = model.training
    model.eval()
    n = min(model.config.block, len(ids) - 1)
    stride = max(1, n // 2)
    starts = list(range(0, len(ids) - n, stride))
    if starts[-1] != len(ids) - n - 1:
        starts.append(len(ids) - n - 1)  # a last window flush with the end
    data = torch.from_numpy(ids)
    total, count, scored = 0.0, 0, 0  # targets [0, scored) are done (target t = ids[t + 1])
    for i in range(0, len(starts), batch):
        chunk = starts[i : i + batch]
        x = torch.stack([data[s : s + n] for s in chunk])  # (B, T)
        y = torch.stack([data[s + 1 : s + n + 1] for s in chunk])  # (B, T)
        logits, _, _ = model(x)  # (B, T, V)
        nll = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")  # (B, T)
        for row, s in enumerate(chunk):
            first = scored - s  # targets s .. s + n - 1; skip those already scored
            total += nll[row, first:].sum().item()
            count += n - first
            scored = s + n
    model.train(was_training)
    return total / count / math.log(2)


def save_checkpoint(path: Path, model: CharTransformer, vocab: Vocabulary, meta: dict) -> None:
    """Write config, weights, vocabulary and metadata atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    ckpt = {"config": asdict(model.config), "state_dict": model.state_dict(), "vocabulary": vocab.chars, "meta": meta}
    torch.save(ckpt, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> tuple[CharTransformer, Vocabulary, dict]:
    """The model (in eval mode), its vocabulary and the training metadata."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = CharTransformer(TransformerConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, Vocabulary(ckpt["vocabulary"]), ckpt["meta"]


def optimizer(model: CharTransformer, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW; weight decay on the matrices only (not LayerNorm gains)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def totals(before: dict, step: int, seconds: float, tokens: int) -> dict:
    """Counters over this run and the runs its ``--init-from`` checkpoint came from."""
    return {
        "steps_total": before["steps"] + step,
        "minutes_total": round(before["minutes"] + seconds / 60, 2),
        "chars_seen_total": before["chars_seen"] + tokens,
    }


def train(args: argparse.Namespace) -> dict:
    """Train, evaluating held-out bpc every ``eval_every`` steps; returns the final record."""
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    data = split(load_text(args.text), args.heldout)
    config = TransformerConfig(
        len(data.vocab), args.block, args.window or args.block, args.layers, args.heads, args.d_model, args.dropout
    )
    model = CharTransformer(config)
    before = {"minutes": 0.0, "chars_seen": 0, "steps": 0}
    if args.init_from:  # continue from earlier weights with a fresh schedule; the log keeps counting
        ckpt = torch.load(args.init_from, map_location="cpu", weights_only=True)
        if TransformerConfig(**ckpt["config"]) != config:
            raise SystemExit(f"--init-from {args.init_from}: its config differs from these arguments")
        model.load_state_dict(ckpt["state_dict"])
        prior = ckpt["meta"]
        before = {
            "minutes": prior.get("minutes_total", prior.get("minutes", 0.0)),
            "chars_seen": prior.get("chars_seen_total", prior.get("chars_seen", 0)),
            "steps": prior.get("steps_total", prior.get("step", 0)),
        }
    opt = optimizer(model, args.lr, args.weight_decay)
    eval_ids = data.heldout[: args.eval_chars] if args.eval_chars else data.heldout
    train_ids = torch.from_numpy(data.train)
    meta = {**corpus_meta(args, data, sum(p.numel() for p in model.parameters())), "before": before}
    files = RunFiles(Path(args.out), lambda path, rec: save_checkpoint(path, model, data.vocab, {**meta, **rec}))
    start, step, tokens = time.monotonic(), 0, 0
    bar = tqdm(total=args.steps, desc="transformer", unit="step", mininterval=5.0)
    while step < args.steps:
        lr = learning_rate(args, step, time.monotonic() - start)
        if lr is None:
            break
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.from_numpy(rng.integers(0, len(train_ids) - args.block - 1, args.batch))
        idx = starts[:, None] + torch.arange(args.block + 1)  # (B, T + 1)
        x, y = train_ids[idx[:, :-1]], train_ids[idx[:, 1:]]  # (B, T), (B, T)
        logits, _, _ = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, config.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        tokens += x.numel()
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(bpc=f"{loss.item() / math.log(2):.3f}", lr=f"{lr:.1e}", refresh=False)
        if step % args.eval_every == 0:
            seconds = time.monotonic() - start
            rec = {
                "step": step,
                "minutes": round(seconds / 60, 2),
                "train_bpc": round(loss.item() / math.log(2), 4),
                "heldout_bpc": round(bits_per_char(model, eval_ids), 4),
                "chars_seen": tokens,
                "tokens_per_s": round(tokens / seconds, 1),
                "lr": lr,
                **totals(before, step, seconds, tokens),
            }
            files.periodic(rec)
    bar.close()
    seconds = time.monotonic() - start
    rec = {
        "step": step,
        "minutes": round(seconds / 60, 2),
        "heldout_bpc": round(bits_per_char(model, data.heldout), 4),
        "chars_seen": tokens,
        "tokens_per_s": round(tokens / max(seconds, 1e-9), 1),
        "final": True,
        **totals(before, step, seconds, tokens),
    }
    files.final(rec)
    return rec


def parser() -> argparse.ArgumentParser:
    """The training command line."""
    p = argparse.ArgumentParser(prog="python -m oneiros_training.transformer", description=__doc__.split("\n")[0])
    add_corpus_args(p, out="runs/transformer-kjv")
    p.add_argument("--block", type=int, default=256, help="training sequence length (characters)")
    p.add_argument("--window", type=int, default=0, help="attention window (0 = block)")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=32, help="sequences per step")
    add_schedule_args(p, steps=100000, lr=2e-3, warmup=200, eval_chars=30000)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--init-from", default="", help="checkpoint whose weights to start from (same config)")
    return p


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and train."""
    train(parser().parse_args(argv))

"""Character-level GRU language model: training and held-out bits per character.

The model decodes incrementally: ``step`` takes one token per sequence and the GRU
state, and returns next-token logits and the new state, so each generated character
costs one step (this is what ``export/oneiros_export/charlm.py`` puts in ONNX).

Training is truncated backpropagation through time over ``batch`` contiguous streams
of the training text; the state is carried from one window to the next.

    python -m oneiros_training.charlm --text kjv --out runs/charlm-kjv --minutes 45
    python -m oneiros_training.charlm --text my.txt --hidden 128 --steps 500 --out runs/mine
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from oneiros_training.corpus import Vocabulary, load_text, split
from oneiros_training.lm_run import RunFiles, add_corpus_args, add_schedule_args, corpus_meta, learning_rate


@dataclass(frozen=True)
class CharLMConfig:
    vocab_size: int
    embed: int = 64
    hidden: int = 512
    layers: int = 1


class CharLM(nn.Module):
    """Embedding -> GRU -> linear head over the character vocabulary."""

    def __init__(self, config: CharLMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embed)
        self.rnn = nn.GRU(config.embed, config.hidden, config.layers, batch_first=True)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def initial_state(self, batch: int) -> torch.Tensor:
        return torch.zeros(self.config.layers, batch, self.config.hidden)  # (L, B, H)

    def forward(self, ids: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ids (B, T) int64, state (L, B, H) -> logits (B, T, V), state (L, B, H)."""
        x = self.embed(ids)  # (B, T, E)
        out, state = self.rnn(x, state)  # (B, T, H), (L, B, H)
        return self.head(out), state  # (B, T, V)

    def step(self, ids: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One character per sequence: ids (B,) int64, state (L, B, H) -> logits (B, V), state."""
        logits, state = self.forward(ids[:, None], state)  # (B, 1, V)
        return logits[:, 0], state


def streams(ids: np.ndarray, batch: int) -> torch.Tensor:
    """Cut a token array into ``batch`` contiguous rows: (batch, N // batch)."""
    n = len(ids) // batch
    return torch.from_numpy(ids[: n * batch].reshape(batch, n).copy())


@torch.no_grad()
def bits_per_char(model: CharLM, ids: np.ndarray, rows: int = 16, window: int = 512) -> float:
    """Mean -log2 p(next char) over ``ids``, read as ``rows`` streams with carried state."""
    model.eval()
    data = streams(ids, rows)  # (R, N)
    state = model.initial_state(rows)
    total, count = 0.0, 0
    for t in range(0, data.shape[1] - 1, window):
        x = data[:, t : t + window]
        y = data[:, t + 1 : t + window + 1]
        x = x[:, : y.shape[1]]
        logits, state = model(x, state)  # (R, T, V)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count / math.log(2)


def save_checkpoint(path: Path, model: CharLM, vocab: Vocabulary, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(
        {"config": asdict(model.config), "state_dict": model.state_dict(), "vocabulary": vocab.chars, "meta": meta}, tmp
    )
    tmp.replace(path)


def load_checkpoint(path: str | Path) -> tuple[CharLM, Vocabulary, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = CharLM(CharLMConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, Vocabulary(ckpt["vocabulary"]), ckpt["meta"]


def train(args: argparse.Namespace) -> dict:
    """Train, evaluating held-out bpc every ``eval_every`` steps; returns the final metrics."""
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    text = load_text(args.text)
    data = split(text, args.heldout)
    previous: dict = {}
    if args.init:  # continue from a checkpoint (same vocabulary); the optimiser starts afresh
        model, vocab, previous = load_checkpoint(args.init)
        if vocab != data.vocab:
            raise SystemExit(f"--init {args.init}: its vocabulary differs from this text's")
        model.train()
    else:
        model = CharLM(CharLMConfig(len(data.vocab), args.embed, args.hidden, args.layers))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    train_rows = streams(data.train, args.batch)  # (B, N)
    eval_ids = data.heldout[: args.eval_chars] if args.eval_chars else data.heldout
    n_params = sum(p.numel() for p in model.parameters())
    meta = {
        **corpus_meta(args, data, n_params),
        "earlier": [
            *previous.get("earlier", []),
            {k: previous[k] for k in ("args", "step", "minutes", "chars_seen", "heldout_bpc") if k in previous},
        ]
        if previous
        else [],
    }
    files = RunFiles(Path(args.out), lambda path, rec: save_checkpoint(path, model, data.vocab, {**meta, **rec}))
    state = model.initial_state(args.batch)
    t_pos, start, step = 0, time.monotonic(), 0
    bar = tqdm(total=args.steps, desc="charlm", unit="step", mininterval=2.0)
    while step < args.steps:
        lr = learning_rate(args, step, time.monotonic() - start)
        if lr is None:
            break
        for g in opt.param_groups:
            g["lr"] = lr
        if t_pos + args.bptt + 1 > train_rows.shape[1]:
            t_pos, state = 0, model.initial_state(args.batch)
        x = train_rows[:, t_pos : t_pos + args.bptt]  # (B, T)
        y = train_rows[:, t_pos + 1 : t_pos + args.bptt + 1]  # (B, T)
        t_pos += args.bptt
        logits, state = model(x, state.detach())
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        step += 1
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(bpc=f"{loss.item() / math.log(2):.3f}", lr=f"{lr:.1e}", refresh=False)
        if step % args.eval_every == 0:
            bpc = bits_per_char(model, eval_ids)
            rec = {
                "step": step,
                "minutes": round((time.monotonic() - start) / 60, 2),
                "train_bpc": round(loss.item() / math.log(2), 4),
                "heldout_bpc": round(bpc, 4),
                "chars_seen": step * args.batch * args.bptt,
                "lr": lr,
            }
            files.periodic(rec)
    bar.close()
    minutes = (time.monotonic() - start) / 60
    bpc = bits_per_char(model, data.heldout)
    rec = {
        "step": step,
        "minutes": round(minutes, 2),
        "heldout_bpc": round(bpc, 4),
        "chars_seen": step * args.batch * args.bptt,
        "final": True,
    }
    files.final(rec)
    return rec


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m oneiros_training.charlm", description=__doc__.split("\n")[0])
    add_corpus_args(p, out="runs/charlm-kjv")
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=64, help="parallel streams of the training text")
    p.add_argument("--bptt", type=int, default=128, help="truncated-BPTT window (characters)")
    add_schedule_args(p, steps=20000, lr=3e-3, warmup=100, eval_chars=60000)
    p.add_argument("--init", default=None, help="continue training from this checkpoint's weights")
    return p


def main(argv: list[str] | None = None) -> None:
    train(parser().parse_args(argv))


if __name__ == "__main__":
    main()

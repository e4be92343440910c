"""What the two character language models' exports write alike into ``model.json``."""

from __future__ import annotations

import argparse
import sys
import time


def add_export_args(p: argparse.ArgumentParser, trainer: str, out: str) -> None:
    """The checkpoint, the version folder and the defaults written to ``model.json``."""
    p.add_argument("checkpoint", help=f"a .pt written by python -m {trainer}")
    p.add_argument("--out", default=out, help="version folder to write")
    p.add_argument("--name", default=None, help="model name (default: the parent folder's name)")
    p.add_argument("--text", default=None, help="re-measure held-out bpc on this text ('kjv' = the KJV)")
    p.add_argument("--temperature", type=float, default=0.5, help="default temperature in model.json")
    p.add_argument("--max-tokens", type=int, default=200, help="default max_tokens in model.json")


def training_command(module: str, args: dict) -> str:
    """The command line that reproduces a run from its recorded ``args``."""
    flags = (f"--{k.replace('_', '-')} {v}" for k, v in args.items() if v not in (None, ""))
    return f"python -m {module} " + " ".join(flags)


def corpus_fields(meta: dict) -> dict:
    """``training`` fields about the text: its source, the held-out split and its sizes."""
    return {
        "data": meta["data"],
        "heldout": f"last {meta['heldout_fraction']:.0%} of the characters",
        "train_chars": meta["train_chars"],
        "heldout_chars": meta["heldout_chars"],
    }


def export_fields(module: str, argv: list[str] | None) -> dict:
    """``training`` fields about this export: its command and date."""
    return {
        "export": f"python -m {module} " + " ".join(sys.argv[1:] if argv is None else argv),
        "exported_at": time.strftime("%Y-%m-%d"),
    }

"""Export a trained character Transformer to ONNX (one graph: prefill and decode) + model.json.

``model.onnx`` takes ``ids``, ``positions`` (B, T) int64, ``past_positions`` (B, P) int64 and
the cache one layer per input, ``past_keys.{l}``, ``past_values.{l}`` (B, H, P, D) float32
(so a server passes views of its cache, never a stacked copy); it returns ``logits``
(B, T, V) and the new tokens' ``new_keys``, ``new_values`` (L, B, H, T, D). A prefill is a
call with P = 0 (a prompt chunk), a decode step one with T = 1. Position -1 marks padding,
so sequences with different past lengths share a batch (docs/transformer-cache.md). Batch,
time and past axes are dynamic.

    python -m oneiros_export.transformer runs/transformer-kjv/final.pt --out models/transformer-kjv/1
"""

from __future__ import annotations

import argparse
import json
import shutil
import warnings
from pathlib import Path

import torch
from torch import nn

from oneiros_export.lm_manifest import add_export_args, corpus_fields, export_fields, training_command
from oneiros_export.transformer_checks import check_parity, temperature_entropies
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_training.corpus import load_text, split
from oneiros_training.transformer import CharTransformer
from oneiros_training.transformer_train import bits_per_char, load_checkpoint

OUTPUTS = ["logits", "new_keys", "new_values"]
GRAPH = "model.onnx"
WEIGHTS = "model.pt"  # the checkpoint beside the graph: to continue training (--init-from), or to compare


def input_names(n_layer: int) -> list[str]:
    """ids, positions, past_positions, past_keys.0 .. past_keys.{L-1}, past_values.0 .. ."""
    layers = range(n_layer)
    return [
        "ids",
        "positions",
        "past_positions",
        *(f"past_keys.{i}" for i in layers),
        *(f"past_values.{i}" for i in layers),
    ]


class CachedStep(nn.Module):
    """ids, positions (B, T), past_positions (B, P), L past keys then L past values (B, H, P, D)
    -> logits (B, T, V), new keys and values (L, B, H, T, D)."""

    def __init__(self, model: CharTransformer):
        super().__init__()
        self.model = model

    def forward(self, ids, positions, past_positions, *past):
        n = self.model.config.n_layer
        return self.model(ids, positions, past[:n], past[n:], past_positions)


def shapes(model: CharTransformer) -> tuple[dict[str, list], dict[str, list]]:
    """Symbolic shapes of the graph's inputs, and of its outputs."""
    c = model.config
    kv = ["batch", c.n_head, "past", c.head_dim]
    new = [c.n_layer, "batch", c.n_head, "time", c.head_dim]
    cache = {name: kv for name in input_names(c.n_layer)[3:]}
    seq = ["batch", "time"]
    return {"ids": seq, "positions": seq, "past_positions": ["batch", "past"], **cache}, {
        "logits": ["batch", "time", c.vocab_size],
        "new_keys": new,
        "new_values": new,
    }


def export_graph(model: CharTransformer, path: Path) -> Path:
    """Write the one graph (prefill with past = 0, decode with time = 1) with the TorchScript exporter."""
    model.eval()
    c = model.config
    ids = torch.zeros(2, 3, dtype=torch.int64)
    pos = torch.arange(4, 7).expand(2, 3).contiguous()
    past = [torch.zeros(2, c.n_head, 4, c.head_dim) for _ in range(2 * c.n_layer)]
    past_pos = torch.arange(4).expand(2, 4).contiguous()
    names = input_names(c.n_layer)
    seq = {0: "batch", 1: "time"}
    new = {1: "batch", 3: "time"}
    axes = {"ids": seq, "positions": seq, "past_positions": {0: "batch", 1: "past"}}
    axes |= {name: {0: "batch", 2: "past"} for name in names[3:]}
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            CachedStep(model).eval(),
            (ids, pos, past_pos, *past),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=names,
            output_names=OUTPUTS,
            dynamic_axes={**axes, "logits": seq, "new_keys": new, "new_values": new},
        )
    return path


def curve(log: Path) -> list[dict]:
    """The held-out records of a run's train.log.jsonl (step, minutes, chars_seen, heldout_bpc).

    A run started ``--init-from`` an earlier one counts on from it (its ``*_total`` fields);
    an earlier run's last record is marked ``run_end``, the last one ``final``.
    """
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    out = []
    for i, r in enumerate(rows):
        rec = {
            "step": r.get("steps_total", r.get("step")),
            "minutes": r.get("minutes_total", r.get("minutes")),
            "chars_seen": r.get("chars_seen_total", r.get("chars_seen")),
        }
        rec |= {k: r[k] for k in ("train_bpc", "heldout_bpc") if k in r}
        if r.get("final"):
            rec["final" if i == len(rows) - 1 else "run_end"] = True
        out.append(rec)
    return out


def commands(meta: dict) -> list[str]:
    """The training commands that made a checkpoint, first run first (following ``--init-from``)."""
    earlier = meta["args"].get("init_from")
    before: list[str] = []
    if earlier and Path(earlier).exists():
        before = commands(torch.load(earlier, map_location="cpu", weights_only=True)["meta"])
    return [*before, training_command("oneiros_training.transformer", meta["args"])]


def main(argv: list[str] | None = None) -> None:
    """Export a checkpoint: the graph, its parity with torch, the entropies, model.json."""
    p = argparse.ArgumentParser(prog="python -m oneiros_export.transformer", description=__doc__.split("\n")[0])
    add_export_args(p, "oneiros_training.transformer", out="models/transformer-kjv/1")
    args = p.parse_args(argv)

    checkpoint = Path(args.checkpoint)
    model, vocab, meta = load_checkpoint(checkpoint)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    graph = export_graph(model, out / GRAPH)
    if checkpoint.resolve() != (out / WEIGHTS).resolve():
        shutil.copyfile(checkpoint, out / WEIGHTS)
    parity = check_parity(model, graph)
    heldout = meta.get("heldout_bpc")
    if args.text:
        heldout = round(bits_per_char(model, split(load_text(args.text), meta["heldout_fraction"]).heldout), 4)
    bos = "\n" if "\n" in vocab.chars else ""
    prompt = "In the beginning" if set("In the beginning") <= set(vocab.chars) else ""
    entropies = temperature_entropies(graph, vocab, model.config.window, bos, prompt)
    c = model.config
    inputs, outputs = shapes(model)
    runs = curve(checkpoint.parent / "train.log.jsonl")
    manifest = Manifest(
        name=args.name or out.parent.name,
        version=out.name,
        kind="LANGUAGE_MODEL",
        runtime="onnxruntime",
        description=(
            f"character-level Transformer ({c.n_layer} layers x {c.d_model}, {c.n_head} heads, rotary, "
            f"window {c.window}, {meta['parameters']:,} parameters) trained on {meta['data']}"
        ),
        default_for=[],
        files={"kv_step": file_ref(out, GRAPH), "torch": file_ref(out, WEIGHTS)},
        spec={
            "vocabulary": vocab.chars,
            "special_tokens": {"bos": bos, "unknown": None, "end": None},
            "inputs": inputs,
            "outputs": outputs,
            "cache": {
                "keys": ["past_keys.{layer}", "new_keys"],
                "values": ["past_values.{layer}", "new_values"],
                "positions": "past_positions",
                "layout": ["batch", "head", "past", "head_dim"],
                "new_layout": ["layer", "batch", "head", "time", "head_dim"],
                "padding_position": -1,
                "keep_last": c.window - 1,
                "doc": "docs/transformer-cache.md",
            },
            "architecture": {
                "type": "decoder-only Transformer",
                "n_layer": c.n_layer,
                "n_head": c.n_head,
                "head_dim": c.head_dim,
                "d_model": c.d_model,
                "block": c.block,
                "window": c.window,
                "positions": "rotary",
                "rope_base": c.rope_base,
                "norm": "pre-LayerNorm",
            },
        },
        parameters={"temperature": args.temperature, "max_tokens": args.max_tokens, "top_k": 0, "top_p": 1.0, "n": 1},
        metrics={
            "heldout_bits_per_char": float(heldout),
            "parameters": float(meta["parameters"]),
            "onnx_parity_max_abs": parity,
            "train_tokens_per_s": float(meta.get("tokens_per_s", 0.0)),
            **entropies,
        },
        training={
            **corpus_fields(meta),
            "heldout_method": f"windows of {c.block} chars, stride {c.block // 2}: each char scored once, "
            f"with >= {c.block // 2} chars of context",
            "heldout_measured_on": "all held-out chars"
            if args.text or meta.get("final")
            else f"the first {meta['args']['eval_chars']} held-out chars (a periodic evaluation)",
            "steps": meta.get("steps_total", meta["step"]),
            "minutes": meta.get("minutes_total", meta["minutes"]),
            "chars_seen": meta.get("chars_seen_total", meta["chars_seen"]),
            "checkpoint": WEIGHTS,
            "commands": commands(meta),
            "curve": runs,
            "curve_heldout": f"periodic points on the first {meta['args']['eval_chars'] or 'all'} held-out chars, "
            "the final one on all",
            **export_fields("oneiros_export.transformer", argv),
        },
    )
    write_manifest(out, manifest)
    print(json.dumps({"out": str(out), "heldout_bits_per_char": heldout, "parity": parity, **entropies}))


if __name__ == "__main__":
    main()

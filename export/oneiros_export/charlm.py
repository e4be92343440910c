"""Export a trained character LM to ONNX (one graph: prefill and single step) + model.json.

The graph takes ``ids`` (B, T) int64 and ``state`` (L, B, H) float32 and returns the
next-token ``logits`` (B, V) after the last position and ``state_out`` (L, B, H). With
T = 1 it is the single decoding step; the server also feeds a whole prompt with T = len.
Batch and time axes are dynamic. The sampling loop stays outside the graph.

    python -m oneiros_export.charlm runs/charlm-kjv/final.pt --out models/charlm-kjv/1
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from oneiros_export.defaults import warn_second_default
from oneiros_export.lm_manifest import add_export_args, corpus_fields, export_fields, training_command
from oneiros_server.engines.language_model.sampling import distributions, draw, entropy_bits, rng_for
from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest
from oneiros_training.charlm import CharLM, bits_per_char, load_checkpoint, save_checkpoint
from oneiros_training.corpus import Vocabulary, load_text, split

TRAINER = "oneiros_training.charlm"

STATE_NAME, STATE_OUT_NAME = "state", "state_out"
TEMPERATURES = (0.2, 0.5, 1.0, 1.2)


class StepGraph(nn.Module):
    """ids (B, T), state (L, B, H) -> logits of the next token (B, V), state (L, B, H)."""

    def __init__(self, model: CharLM):
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, state = self.model(ids, state)  # (B, T, V), (L, B, H)
        return logits[:, -1], state  # (B, V)


def export_onnx(model: CharLM, path: Path) -> None:
    graph = StepGraph(model).eval()
    ids = torch.zeros(2, 3, dtype=torch.int64)
    state = model.initial_state(2)
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation and GRU batch notes
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (ids, state),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["ids", STATE_NAME],
            output_names=["logits", STATE_OUT_NAME],
            dynamic_axes={
                "ids": {0: "batch", 1: "time"},
                STATE_NAME: {1: "batch"},
                "logits": {0: "batch"},
                STATE_OUT_NAME: {1: "batch"},
            },
        )


def check_parity(model: CharLM, path: Path, atol: float = 1e-4) -> float:
    """Largest |torch - onnxruntime| over steps and prefills at several batch sizes."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for batch, time_steps in ((1, 1), (5, 1), (3, 17), (64, 1)):
        ids = torch.randint(0, model.config.vocab_size, (batch, time_steps), generator=gen)
        state = torch.randn(model.config.layers, batch, model.config.hidden, generator=gen) * 0.5
        with torch.no_grad():
            want_logits, want_state = StepGraph(model)(ids, state)
        got_logits, got_state = session.run(None, {"ids": ids.numpy(), STATE_NAME: state.numpy()})
        worst = max(
            worst,
            float(np.abs(got_logits - want_logits.numpy()).max()),
            float(np.abs(got_state - want_state.numpy()).max()),
        )
    assert worst < atol, f"torch/ONNX parity failed: max abs difference {worst:.2e}"
    return worst


def temperature_entropies(
    path: Path, vocab: Vocabulary, bos: str, prompt: str, tokens: int = 300, seed: int = 0
) -> dict[str, float]:
    """Mean entropy (bits) of the sampled distributions at each of the chapter's temperatures."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    layers, hidden = (session.get_inputs()[1].shape[0], session.get_inputs()[1].shape[2])
    temps = np.array(TEMPERATURES)
    n = len(temps)
    ids = np.tile(vocab.encode(bos + prompt)[None], (n, 1))
    logits, state = session.run(None, {"ids": ids, STATE_NAME: np.zeros((layers, n, hidden), np.float32)})
    rngs = [rng_for(seed, i) for i in range(n)]
    total = np.zeros(n)
    for _ in range(tokens):
        probs = distributions(logits, temps, np.zeros(n, np.int64), np.ones(n))
        total += entropy_bits(probs)
        nxt = draw(probs, rngs)
        logits, state = session.run(None, {"ids": nxt[:, None], STATE_NAME: state})
    return {f"mean_entropy_bits_t{t:g}": round(float(e), 4) for t, e in zip(TEMPERATURES, total / tokens)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m oneiros_export.charlm", description=__doc__.split("\n")[0])
    add_export_args(p, TRAINER, out="models/charlm-kjv/1")
    p.add_argument("--default-for-sample", action=argparse.BooleanOptionalAction, default=True)
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.default_for_sample:
        how = "pass --no-default-for-sample, or unmark the other"
        warn_second_default(out.parent.parent, args.name or out.parent.name, ["Sample"], how)

    model, vocab, meta = load_checkpoint(args.checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "model.onnx"
    export_onnx(model, onnx_path)
    save_checkpoint(out / "model.pt", model, vocab, meta)  # torch weights: fine-tuning, the bench's baseline
    parity = check_parity(model, onnx_path)
    heldout = meta.get("heldout_bpc")
    if args.text:
        heldout = round(bits_per_char(model, split(load_text(args.text), meta["heldout_fraction"]).heldout), 4)
    bos = "\n" if "\n" in vocab.chars else ""
    entropies = temperature_entropies(
        onnx_path, vocab, bos, "In the beginning" if set("In the beginning") <= set(vocab.chars) else ""
    )
    cfg = model.config
    earlier = meta.get("earlier", [])
    manifest = Manifest(
        name=args.name or out.parent.name,
        version=out.name,
        kind="LANGUAGE_MODEL",
        runtime="onnxruntime",
        description=(
            f"character-level GRU language model ({cfg.layers}x{cfg.hidden}, "
            f"{meta['parameters']:,} parameters) trained on {meta['data']}"
        ),
        default_for=["Sample"] if args.default_for_sample else [],
        files={"step": file_ref(out, "model.onnx"), "torch": file_ref(out, "model.pt")},
        spec={
            "vocabulary": vocab.chars,
            "special_tokens": {"bos": bos, "unknown": None, "end": None},
            "inputs": {"ids": ["batch", "time"], STATE_NAME: [cfg.layers, "batch", cfg.hidden]},
            "outputs": {"logits": ["batch", cfg.vocab_size], STATE_OUT_NAME: [cfg.layers, "batch", cfg.hidden]},
            "state": {
                "input": STATE_NAME,
                "output": STATE_OUT_NAME,
                "shape": [cfg.layers, "batch", cfg.hidden],
                "initial": "zeros",
            },
            "architecture": {"cell": "GRU", "embed": cfg.embed, "hidden": cfg.hidden, "layers": cfg.layers},
        },
        parameters={"temperature": args.temperature, "max_tokens": args.max_tokens, "top_k": 0, "top_p": 1.0, "n": 1},
        metrics={
            "heldout_bits_per_char": float(heldout),
            "parameters": float(meta["parameters"]),
            "onnx_parity_max_abs": parity,
            **entropies,
        },
        training={
            **corpus_fields(meta),
            "steps": meta["step"] + sum(e["step"] for e in earlier),
            "minutes": round(meta["minutes"] + sum(e["minutes"] for e in earlier), 2),
            "chars_seen": meta["chars_seen"] + sum(e["chars_seen"] for e in earlier),
            "commands": [training_command(TRAINER, e["args"]) for e in [*earlier, meta]],
            "phases": [{k: e[k] for k in ("step", "minutes", "chars_seen", "heldout_bpc")} for e in earlier]
            + [
                {
                    "step": meta["step"],
                    "minutes": meta["minutes"],
                    "chars_seen": meta["chars_seen"],
                    "heldout_bpc": heldout,
                }
            ],
            **export_fields("oneiros_export.charlm", argv),
        },
    )
    write_manifest(out, manifest)
    print(json.dumps({"out": str(out), "heldout_bits_per_char": heldout, "parity": parity, **entropies}))


if __name__ == "__main__":
    main()

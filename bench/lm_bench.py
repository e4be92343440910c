"""Language models' cost per character: the Transformer's key/value cache against re-feeding
its window (the keras-io way), at 64, 512 and 2,048 characters of context, 1, 16 and 64
streams; the GRU (its state carried, or its window re-fed) beside it.

    python -m bench.lm_bench [--steps 24] [--contexts 64,512,2048] [--streams 1,16,64]

In one process, over the served step runtimes (``oneiros_server.runtime``) with the
served session settings and the batch's vectorised sampling: each configuration prefills
``streams`` KJV passages of ``context`` characters, then times ``--steps`` decode steps
(one character per stream each). Figures: median step time (= per-character latency of
each stream) and characters/s over all streams, and the prefill's time (the served
Transformer prefills only a prompt's last n_layer x (window - 1) + 1 characters). Re-feeding runs the last ``window``
characters (positions restarted at 0) from an empty cache/state every step, as the
keras-io text generators do. The same weights, the same machine, one run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.common import REPO, cpu_bf16_report, describe_cpu, median, print_table, write_results
from oneiros_server.engines.language_model.sampling import distributions, draw_with, uniforms
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.gru import GruRuntime
from oneiros_server.runtime.onnx import create_session
from oneiros_server.runtime.transformer import TransformerRuntime
from oneiros_server.settings import Settings
from oneiros_training.corpus import load_text


def model_dir(name: str) -> Path:
    version = REPO / "models" / name / "1"
    if not (version / "model.json").exists():
        raise SystemExit(f"{name} is not in models/")
    return version


class Model:
    """One served language model: its session, its runtime, and the window it is re-fed with."""

    def __init__(self, version_dir: Path, window: int):
        self.manifest = Manifest.model_validate(json.loads((version_dir / "model.json").read_text()))
        files = self.manifest.files
        self.kind = "transformer" if "kv_step" in files else "gru"
        self.path = version_dir / files["kv_step" if self.kind == "transformer" else "step"].path
        self.session = create_session(self.path, Settings(metrics_port=-1))
        arch = self.manifest.spec["architecture"]
        self.window = int(arch.get("window", window))
        self.vocab = {c: i for i, c in enumerate(self.manifest.spec["vocabulary"])}

    def runtime(self):
        if self.kind == "transformer":
            return TransformerRuntime.from_spec(self.session, self.manifest.spec)
        return GruRuntime.from_spec(self.session, self.manifest.spec)

    def refeed(self, windows: np.ndarray) -> np.ndarray:
        """Logits after the last of each row of ``windows`` (B, W), from nothing cached."""
        b, w = windows.shape
        if self.kind == "transformer":
            a = self.manifest.spec["architecture"]
            empty = np.zeros((b, a["n_head"], 0, a["head_dim"]), np.float32)
            feed = {f"past_{kv}.{i}": empty for kv in ("keys", "values") for i in range(a["n_layer"])}
            pos = np.broadcast_to(np.arange(w), (b, w)).copy()
            feed |= {"ids": windows, "positions": pos, "past_positions": np.zeros((b, 0), np.int64)}
            return self.session.run(["logits"], feed)[0][:, -1]
        state = self.manifest.spec["state"]
        zeros = np.zeros((state["shape"][0], b, state["shape"][2]), np.float32)
        return self.session.run(None, {"ids": windows, state["input"]: zeros})[0]


def sample(logits: np.ndarray, step: int) -> np.ndarray:
    """The served sampling at temperature 0.5, one stream per row."""
    b = len(logits)
    probs = distributions(logits, np.full(b, 0.5), np.zeros(b, np.int64), np.ones(b))
    return draw_with(probs, uniforms(np.arange(b, dtype=np.uint64), np.full(b, step, np.uint64)))


def measure(model: Model, method: str, prompts: np.ndarray, steps: int, chunk: int) -> dict:
    """Median decode-step seconds for ``prompts`` (B, context) with the cache or by re-feeding."""
    b = len(prompts)
    seq_ids = list(range(b))
    times = []
    if method == "cache":
        runtime = model.runtime()
        if runtime.reach is not None:  # as the engine does: nothing further back can matter
            prompts = prompts[:, -runtime.reach :]
        started = time.perf_counter()
        for start in range(0, prompts.shape[1], chunk):
            logits = runtime.prefill(seq_ids, list(prompts[:, start : start + chunk]))
        prefill_s = time.perf_counter() - started
        for step in range(steps + 3):
            tokens = sample(logits, step)
            t0 = time.perf_counter()
            logits = runtime.decode(seq_ids, tokens)
            times.append(time.perf_counter() - t0)
        runtime.release(seq_ids)
    else:
        prefill_s = 0.0
        context = prompts.copy()
        logits = model.refeed(context[:, -model.window :])
        for step in range(steps + 3):
            tokens = sample(logits, step)
            t0 = time.perf_counter()
            context = np.concatenate([context[:, 1 - model.window :], tokens[:, None]], axis=1)
            logits = model.refeed(context)
            times.append(time.perf_counter() - t0)
    step_s = median(times[3:])  # the first steps warm the allocator
    return {"step_ms": step_s * 1e3, "chars_per_s": b / step_s, "prefill_s": prefill_s}


def passages(text: str, vocab: dict[str, int], count: int, length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(text) - length, count)
    return np.array([[vocab[c] for c in text[s : s + length]] for s in starts], np.int64)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.lm_bench", description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=24, help="timed decode steps per configuration")
    p.add_argument("--contexts", default="64,512,2048")
    p.add_argument("--streams", default="1,16,64")
    p.add_argument("--chunk", type=int, default=256, help="prefill chunk (the server's --sample-prefill-chunk)")
    args = p.parse_args(argv)
    contexts = [int(x) for x in args.contexts.split(",")]
    streams = [int(x) for x in args.streams.split(",")]
    cpu = cpu_bf16_report()
    transformer = Model(model_dir("transformer-kjv"), 0)
    gru = Model(model_dir("charlm-kjv"), transformer.window)  # the GRU is re-fed the same window
    text = load_text("kjv")
    rows, results = [], []
    for model in (transformer, gru):
        for context in contexts:
            for n in streams:
                prompts = passages(text, model.vocab, n, context, seed=context + n)
                cached = measure(model, "cache", prompts, args.steps, args.chunk)
                refed = measure(model, "refeed", prompts, args.steps, args.chunk)
                name = model.manifest.name
                results.append({"model": name, "context": context, "streams": n, "cache": cached, "refeed": refed})
                rows.append(
                    [
                        name,
                        context,
                        n,
                        cached["step_ms"],
                        refed["step_ms"],
                        cached["chars_per_s"],
                        refed["chars_per_s"],
                        refed["step_ms"] / cached["step_ms"],
                        cached["prefill_s"],
                    ]
                )
                print(f"{name} context {context} streams {n}: {cached['step_ms']:.2f} ms cached", flush=True)
    print(f"\nLanguage models, per-character cost ({describe_cpu(cpu)}); window {transformer.window}")
    print_table(
        [
            "model",
            "context",
            "streams",
            "ms/char cache",
            "ms/char re-feed",
            "chars/s cache",
            "chars/s re-feed",
            "re-feed / cache",
            "prefill s",
        ],
        rows,
    )
    path = write_results(
        "lm_bench",
        {"cpu_report": cpu, "window": transformer.window, "args": vars(args), "results": results},
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

"""An imported stateless language model (``files.window``, served by re-feeding its window)
against the project's GRU (its state carried), per decode step, at 1 and 16 streams.

    python -m bench.window_bench runs/byo-models/kjv-lstm/1 [--steps 30] [--streams 1,16]

Over the served step runtimes (``oneiros_server.runtime.window`` and ``.gru``) with the served
session settings: each configuration prefills ``streams`` prompts, then times ``--steps`` decode
steps (one character per stream each). Figures: median step time and characters/s over all
streams. A window step runs the whole window (its length in ``model.json``) through the graph;
a GRU step runs one token: the cost of having no state outputs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.common import REPO, median, print_table, write_results
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.gru import GruRuntime
from oneiros_server.runtime.onnx import create_session
from oneiros_server.runtime.window import WindowRuntime
from oneiros_server.settings import Settings
from oneiros_server.specs import LanguageModelSpec


def runtime(version: Path, settings: Settings):
    manifest = Manifest.model_validate(json.loads((version / "model.json").read_text()))
    spec = LanguageModelSpec.model_validate(manifest.spec)
    role = spec.step_role(manifest.files)
    session = create_session(version / manifest.files[role].path, settings)
    made = WindowRuntime.from_spec(session, spec) if role == "window" else GruRuntime.from_spec(session, manifest.spec)
    return made, len(spec.vocabulary), spec.window.length if spec.window else 0


def time_steps(made, vocabulary: int, streams: int, steps: int) -> list[float]:
    rng = np.random.default_rng(0)
    ids = list(range(streams))
    made.prefill(ids, [rng.integers(0, vocabulary, 64) for _ in ids])
    times = []
    for _ in range(steps):
        tokens = rng.integers(0, vocabulary, streams)
        start = time.perf_counter()
        made.decode(ids, tokens)
        times.append(time.perf_counter() - start)
    made.release(ids)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("window_model", type=Path, help="a version folder with files.window")
    parser.add_argument("--gru", type=Path, default=REPO / "models/charlm-kjv/1")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--streams", default="1,16")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = parser.parse_args()
    settings = Settings(model_repository=REPO / "models", ort_threads=args.threads)
    rows, results = [], []
    for label, folder in (("window (re-fed)", args.window_model), ("GRU (state)", args.gru)):
        made, vocabulary, window = runtime(folder, settings)
        for streams in (int(s) for s in args.streams.split(",")):
            step = median(time_steps(made, vocabulary, streams, args.steps))
            rows.append([label, window or 1, streams, step * 1e3, streams / step])
            results.append({"model": str(folder), "runtime": label, "tokens_per_run": window or 1, "streams": streams,
                            "step_ms": step * 1e3, "chars_per_s": streams / step})  # fmt: skip
    print_table(["runtime", "tokens per run", "streams", "step ms (median)", "chars/s"], rows)
    print(f"wrote {write_results('window_bench', {'rows': results})}")


if __name__ == "__main__":
    main()

"""Sample benchmark: gRPC streaming vs the naive re-feed loop; continuous batching on vs off.

In one run, on the same machine and weights:
  (a) one stream: characters/s through SampleStream (a server in its own process)
      against a naive in-process torch loop that re-feeds the last ``--window``
      characters every step (the keras-io example's method);
  (b) aggregate characters/s with 1, 4, 16, 64 concurrent streams, continuous batching
      on and off, with p50/p99 time to first token, per-token latency and the server's
      CPU time per character; and the engine alone (in-process, no gRPC) for reference.
Prints a table and writes JSON under bench/results/.

    python -m bench.sample_bench
    python -m bench.sample_bench --model-dir models/charlm-kjv/1 --tokens 200 --streams 1 4 16 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np

from bench.common import REPO, machine, print_table, server_process_with_pid, write_results
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

PROMPT = "And it came to pass"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def naive_torch(checkpoint: Path, tokens: int, window: int, temperature: float, seed: int) -> float:
    """chars/s of the re-feed loop: each step runs the model over the last ``window`` chars."""
    import torch

    from oneiros_server.engines.sampling import distributions, draw, rng_for
    from oneiros_training.charlm import load_checkpoint

    model, vocab, _ = load_checkpoint(checkpoint)
    ids = list(vocab.encode("\n" + PROMPT))
    rng = [rng_for(seed, 0)]
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(tokens):
            x = torch.tensor([ids[-window:]])  # (1, T)
            logits, _ = model(x, model.initial_state(1))  # (1, T, V)
            probs = distributions(logits[:, -1].numpy(), np.array([temperature]), np.array([0]), np.array([1.0]))
            ids.append(int(draw(probs, rng)[0]))
    return tokens / (time.perf_counter() - start)


def one_stream(stub, model: str, tokens: int, temperature: float, seed: int) -> dict:
    """One SampleStream: characters, time to first token and per-character gaps."""
    request = pb.SampleRequest(model=model, prompt=PROMPT, max_tokens=tokens, temperature=temperature, seed=seed)
    start = time.perf_counter()
    first, last, gaps, chars = None, start, [], 0
    for chunk in stub.SampleStream(request, timeout=600):
        now = time.perf_counter()
        if chunk.text:
            if first is None:
                first = now - start
            else:
                gaps += [(now - last) / len(chunk.text)] * len(chunk.text)
            last = now
        chars += len(chunk.text)
    return {"chars": chars, "ttft": first, "gaps": gaps, "seconds": time.perf_counter() - start}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def in_process(model_dir: Path, streams: int, tokens: int, temperature: float, threads: int) -> float:
    """Aggregate chars/s of the engine alone (continuous batching, no gRPC), one reader thread per stream."""
    import json

    from oneiros_server.control import CallControl
    from oneiros_server.engines.sampler import SampleRequest, load
    from oneiros_server.repository.manifest import Manifest
    from oneiros_server.settings import Settings

    manifest = Manifest.model_validate(json.loads((model_dir / "model.json").read_text()))
    engine = load(manifest, model_dir, Settings(metrics_port=-1, ort_threads=threads))
    engine.warmup()
    counts = [0] * streams

    def run(i: int) -> None:
        request = SampleRequest(prompt=PROMPT, max_tokens=tokens, temperature=temperature, seed=i)
        counts[i] = sum(len(c.text) for c in engine.stream(request, CallControl()))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    seconds = time.perf_counter() - start
    engine.close()
    return round(sum(counts) / seconds, 1)


def concurrent(stub, model: str, streams: int, tokens: int, temperature: float) -> dict:
    results: list[dict] = [{}] * streams
    barrier = threading.Barrier(streams)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = one_stream(stub, model, tokens, temperature, seed=i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    chars = sum(r["chars"] for r in results)
    ttft = [r["ttft"] for r in results if r["ttft"] is not None]
    gaps = [g for r in results for g in r["gaps"]]
    return {
        "streams": streams,
        "chars": chars,
        "seconds": round(wall, 3),
        "chars_per_s": round(chars / wall, 1),
        "ttft_p50_ms": round(percentile(ttft, 50) * 1e3, 2),
        "ttft_p99_ms": round(percentile(ttft, 99) * 1e3, 2),
        "token_p50_ms": round(percentile(gaps, 50) * 1e3, 3),
        "token_p99_ms": round(percentile(gaps, 99) * 1e3, 3),
    }


def measure(repo: Path, model: str, batching: bool, args) -> dict:
    flags = [
        "--model-repository",
        str(repo),
        "--ort-threads",
        str(args.threads),
        "--workers",
        "160",
        "--sample-stream-flush-ms",
        str(args.flush_ms),
        "--batching" if batching else "--no-batching",
    ]
    with server_process_with_pid(*flags) as (port, pid, _), grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        one_stream(stub, model, 20, args.temperature, seed=0)  # warm the connection
        single = [one_stream(stub, model, args.tokens, args.temperature, seed=0) for _ in range(args.repeats)]
        rows = []
        for streams in args.streams:
            before = cpu_seconds(pid)
            row = concurrent(stub, model, streams, args.tokens, args.temperature)
            row["server_cpu_us_per_char"] = round((cpu_seconds(pid) - before) / row["chars"] * 1e6, 1)
            rows.append(row)
    return {
        "single_stream_chars_per_s": round(statistics.median(r["chars"] / r["seconds"] for r in single), 1),
        "concurrency": rows,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sample_bench", description=__doc__.split("\n")[0])
    p.add_argument("--model-dir", type=Path, default=REPO / "models" / "charlm-kjv" / "1")
    p.add_argument("--tokens", type=int, default=200, help="characters per stream")
    p.add_argument("--naive-tokens", type=int, default=100)
    p.add_argument("--window", type=int, default=100, help="characters the naive loop re-feeds each step")
    p.add_argument("--streams", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--repeats", type=int, default=3, help="single-stream repeats (median)")
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--flush-ms", type=float, default=0.0, help="the server's --sample-stream-flush-ms")
    p.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime intra-op threads")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    model_dir = args.model_dir.resolve()
    model = model_dir.parent.name
    repo = Path(tempfile.mkdtemp(prefix="oneiros-bench-"))  # only this model, so start-up is quick
    (repo / model).mkdir()
    os.symlink(model_dir, repo / model / model_dir.name)

    naive = statistics.median(
        naive_torch(model_dir / "model.pt", args.naive_tokens, args.window, args.temperature, 0)
        for _ in range(args.repeats)
    )
    runs = {"continuous": measure(repo, model, True, args), "per_request": measure(repo, model, False, args)}
    engine_only = {s: in_process(model_dir, s, args.tokens, args.temperature, args.threads) for s in args.streams}
    on = runs["continuous"]
    one = on["concurrency"][0]["chars_per_s"]
    report = {
        "note": "2 vCPUs shared with other jobs: compare the ratios measured side by side, not absolutes",
        "model": str(args.model_dir),
        "tokens_per_stream": args.tokens,
        "threads": args.threads,
        "flush_ms": args.flush_ms,
        "naive_window": args.window,
        "naive_chars_per_s": round(naive, 1),
        "runs": runs,
        "single_stream_vs_naive": round(on["single_stream_chars_per_s"] / naive, 2),
        "aggregate_vs_one_stream": {r["streams"]: round(r["chars_per_s"] / one, 2) for r in on["concurrency"]},
        "engine_only_chars_per_s": engine_only,
        "engine_only_vs_one_stream": {s: round(v / engine_only[args.streams[0]], 2) for s, v in engine_only.items()},
    }
    print(f"machine: {machine()['cpu']}, {machine()['cores']} CPUs; {report['note']}; threads={args.threads}")
    print(
        f"single stream: gRPC {on['single_stream_chars_per_s']:.0f} chars/s vs naive torch re-feed "
        f"(window {args.window}) {naive:.0f} chars/s -> {report['single_stream_vs_naive']}x"
    )
    rows = []
    for key, run in runs.items():
        base = run["concurrency"][0]["chars_per_s"]
        for r in run["concurrency"]:
            rows.append(
                [
                    key,
                    r["streams"],
                    r["chars_per_s"],
                    round(r["chars_per_s"] / base, 2),
                    r["ttft_p50_ms"],
                    r["ttft_p99_ms"],
                    r["token_p50_ms"],
                    r["token_p99_ms"],
                    r["server_cpu_us_per_char"],
                ]
            )
    for streams, value in engine_only.items():
        rows.append(["engine only", streams, value, report["engine_only_vs_one_stream"][streams], "", "", "", "", ""])
    print_table(
        [
            "batching",
            "streams",
            "chars/s",
            "x 1 stream",
            "TTFT p50 ms",
            "TTFT p99 ms",
            "token p50 ms",
            "token p99 ms",
            "server CPU us/char",
        ],
        rows,
    )
    print(f"wrote {write_results(f'sample_flush{args.flush_ms:g}ms', report)}")


if __name__ == "__main__":
    main()

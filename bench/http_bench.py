"""Decode over HTTP/JSON beside gRPC, at 1 and 64 closed-loop clients, on one server.

    python -m bench.http_bench [--seconds 5] [--repeats 3] [--levels 1,64]

One Oneiros server (its own process) serves both transports from one event loop; the
same request (one latent of ``vae-mnist-16d``, PNG out) goes through gRPC
(``bench.loadgen``) and through ``POST /v1/decode`` as JSON (``bench.http_loadgen``),
each load generator a process of its own, one after the other, alternating per round.
Medians over ``--repeats`` rounds. Prints a table and writes bench/results/http.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc
import numpy as np
from google.protobuf import json_format

from bench.common import REPO, machine, median, print_table, server_process, write_results
from bench.decode_bench import MODEL, ONEIROS_METHOD, free_port, wait_ready
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc


def run_load(module: str, target: str, where: str, body: Path, clients: int, seconds: float) -> dict:
    args = [sys.executable, "-m", module]
    args += (["unary", target, where] if module == "bench.loadgen" else [target, where]) + [str(body)]
    args += ["--clients", str(clients), "--seconds", str(seconds)]
    out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", default="1,64")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="http-bench-"))
    latent = np.random.default_rng(0).standard_normal(16).astype(np.float32).tolist()
    request = pb.DecodeRequest(model=MODEL, latents=[pb.Vector(values=latent)])
    (work / "request.bin").write_bytes(request.SerializeToString())
    (work / "request.json").write_text(json.dumps(json_format.MessageToDict(request)))
    http_port = free_port()
    transports = {
        "grpc": ("bench.loadgen", ONEIROS_METHOD, work / "request.bin"),
        "http": ("bench.http_loadgen", "/v1/decode", work / "request.json"),
    }
    rounds: dict[str, dict[int, list[dict]]] = {t: {c: [] for c in levels} for t in transports}
    with server_process("--http-port", str(http_port)) as port:
        target = f"127.0.0.1:{port}"
        wait_ready(target)
        with grpc.insecure_channel(target) as channel:
            oneiros_pb2_grpc.OneirosStub(channel).Decode(request, timeout=30)
        for i in range(args.repeats):
            order = list(transports) if i % 2 == 0 else list(reversed(transports))
            for clients in levels:
                for name in order:
                    module, where, body = transports[name]
                    address = target if name == "grpc" else f"127.0.0.1:{http_port}"
                    rounds[name][clients].append(run_load(module, address, where, body, clients, args.seconds))
    med = {
        name: {c: {k: median([r[k] for r in runs]) for k in runs[0]} for c, runs in per.items()}
        for name, per in rounds.items()
    }
    headers = ["clients", "grpc req/s", "http req/s", "http/grpc", "grpc p99 ms", "http p99 ms", "errors"]
    rows = []
    for c in levels:
        g, h = med["grpc"][c], med["http"][c]
        rows.append([c, g["throughput"], h["throughput"], h["throughput"] / g["throughput"], g["p99_ms"], h["p99_ms"],
                     int(g["errors"] + h["errors"])])  # fmt: skip
    cpu = machine()
    print(f"Decode, 1 latent/request, {MODEL}, gRPC vs HTTP/JSON on one server; {cpu['cpu']}, {cpu['cores']} cores;")
    print(f"medians of {args.repeats} rounds of {args.seconds:g} s")
    print_table(headers, rows)
    payload = {"seconds": args.seconds, "repeats": args.repeats, "median": med, "rounds": rounds}
    print(f"wrote {write_results('http', payload)}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

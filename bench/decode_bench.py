"""Decode at 1, 8 and 64 closed-loop clients: Oneiros (batching on, off), MLServer 1.7.1, the floor.

    python -m bench.decode_bench [--seconds 5] [--repeats 3] [--levels 1,8,64] [--workers 1,2]

Each server runs in its own process on this machine, one after the other, driven by
the same asyncio clients (``bench.loadgen``, a process of its own) with the same
request: one latent of ``vae-mnist-16d/1/decoder.onnx`` per call. MLServer serves the
same file through a custom MLModel around an ONNX Runtime session
(``bench/mlserver_decoder``) with adaptive batching (max_batch_size 64,
max_batch_time 2 ms), in its own venv made on first use (``bench.peers``). The floor
(``bench.floor``) is a bare grpc.aio server answering with one prebuilt response.
Medians over ``--repeats`` rounds; each round runs every server. ``--workers 1,2`` adds
Oneiros with 2 worker processes (``oneiros-w2``) beside the default single process; workers
share connections, not calls, so give them ``--connections 8`` (every server gets the same).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import grpc
import numpy as np

from bench.common import REPO, machine, median, print_table, server_process, write_results
from bench.peers import peer_python
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

MODEL = "vae-mnist-16d"
DECODER = REPO / "models" / MODEL / "1" / "decoder.onnx"
ONEIROS_METHOD = "/oneiros.v1.Oneiros/Decode"
MLSERVER_METHOD = "/inference.GRPCInferenceService/ModelInfer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(target: str, seconds: float = 120) -> None:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=seconds)


def load(
    mode: str, target: str, method: str, request: Path, clients: int, seconds: float, connections: int = 1
) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            mode,
            target,
            method,
            str(request),
            "--clients",
            str(clients),
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
        ],  # fmt: skip
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def oneiros(*flags: str):
    with server_process(*flags) as port:
        yield f"127.0.0.1:{port}"


def wait_serving(target: str, method: str, request: bytes, seconds: float = 180) -> None:
    """Until ``method`` answers ``request`` (MLServer loads the model after its port opens)."""
    end = time.monotonic() + seconds
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        while True:
            try:
                call(request, timeout=10)
                return
            except grpc.RpcError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.5)


@contextmanager
def mlserver(request: bytes):
    python = peer_python("mlserver")
    folder = Path(tempfile.mkdtemp(prefix="mlserver-decoder-"))
    try:
        shutil.copy(REPO / "bench" / "mlserver_decoder" / "runtime.py", folder / "runtime.py")
        grpc_port = free_port()
        settings = {"http_port": free_port(), "grpc_port": grpc_port, "metrics_port": free_port(), "debug": False}
        (folder / "settings.json").write_text(json.dumps(settings))
        model = {
            "name": "decoder",
            "implementation": "runtime.OnnxDecoder",
            "parameters": {"uri": str(DECODER)},
            "max_batch_size": 64,
            "max_batch_time": 0.002,
        }
        (folder / "model-settings.json").write_text(json.dumps(model))
        proc = subprocess.Popen(
            [str(python.parent / "mlserver"), "start", str(folder)],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            target = f"127.0.0.1:{grpc_port}"
            wait_ready(target)
            wait_serving(target, MLSERVER_METHOD, request)
            yield target
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def floor(response: Path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.floor", str(port), str(response)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        proc.stdout.readline()
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def mlserver_request(latent: list[float]) -> bytes:
    script = (
        "import sys, json; from mlserver.grpc import dataplane_pb2 as pb; z = json.loads(sys.argv[1]); "
        "r = pb.ModelInferRequest(model_name='decoder', inputs=[pb.ModelInferRequest.InferInputTensor("
        "name='latent', datatype='FP32', shape=[1, len(z)], contents=pb.InferTensorContents(fp32_contents=z))]); "
        "sys.stdout.buffer.write(r.SerializeToString())"
    )
    return subprocess.run(
        [str(peer_python("mlserver")), "-c", script, json.dumps(latent)], capture_output=True, check=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", default="1,8,64")
    parser.add_argument("--no-mlserver", action="store_true", help="skip the peer (no venv)")
    parser.add_argument("--workers", default="1", help="Oneiros --workers values to run (1 = oneiros)")
    parser.add_argument("--connections", type=int, default=1, help="HTTP/2 connections the clients share")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="decode-bench-"))
    latent = np.random.default_rng(0).standard_normal(16).astype(np.float32).tolist()
    request = pb.DecodeRequest(model=MODEL, latents=[pb.Vector(values=latent)])
    (work / "oneiros.bin").write_bytes(request.SerializeToString())
    servers = {
        "oneiros": (lambda: oneiros(), ONEIROS_METHOD, work / "oneiros.bin"),
        "oneiros-off": (lambda: oneiros("--no-batching"), ONEIROS_METHOD, work / "oneiros.bin"),
        **{
            f"oneiros-w{n}": (lambda n=n: oneiros("--workers", n), ONEIROS_METHOD, work / "oneiros.bin")
            for n in args.workers.split(",")
            if n != "1"
        },
        "floor": (lambda: floor(work / "response.bin"), ONEIROS_METHOD, work / "oneiros.bin"),
    }
    if not args.no_mlserver:
        (work / "mlserver.bin").write_bytes(mlserver_request(latent))
        ml_request = (work / "mlserver.bin").read_bytes()
        servers["mlserver"] = (lambda: mlserver(ml_request), MLSERVER_METHOD, work / "mlserver.bin")
    rounds: dict[str, dict[int, list[dict]]] = {name: {c: [] for c in levels} for name in servers}
    for _ in range(args.repeats):
        for name, (start, method, body) in servers.items():
            with start() as target:
                if name == "oneiros":
                    with grpc.insecure_channel(target) as channel:
                        response = oneiros_pb2_grpc.OneirosStub(channel).Decode(request, timeout=30)
                    (work / "response.bin").write_bytes(response.SerializeToString())
                for clients in levels:
                    rounds[name][clients].append(
                        load("unary", target, method, body, clients, args.seconds, args.connections)
                    )
    med = {
        name: {c: {k: median([r[k] for r in runs]) for k in runs[0]} for c, runs in per.items()}
        for name, per in rounds.items()
    }
    headers = ["clients"] + [f"{n} req/s" for n in servers] + [f"{n} p99 ms" for n in servers]
    rows = [[c] + [med[n][c]["throughput"] for n in servers] + [med[n][c]["p99_ms"] for n in servers] for c in levels]
    cpu = machine()
    print(f"Decode, 1 latent/request, {MODEL}; {cpu['cpu']}, {cpu['cores']} cores; medians of {args.repeats}")
    print_table(headers, rows)
    ratios = {}
    for c in levels:
        o = med["oneiros"][c]
        ratios[c] = {"vs_off": o["throughput"] / med["oneiros-off"][c]["throughput"]}
        ratios[c]["vs_floor"] = o["throughput"] / med["floor"][c]["throughput"]
        for name in [n for n in servers if n.startswith("oneiros-w")]:
            ratios[c][f"{name}_vs_oneiros"] = med[name][c]["throughput"] / o["throughput"]
        if "mlserver" in med:
            for name in [n for n in servers if n == "oneiros" or n.startswith("oneiros-w")]:
                prefix = "" if name == "oneiros" else f"{name}_"
                ratios[c][f"{prefix}vs_mlserver"] = med[name][c]["throughput"] / med["mlserver"][c]["throughput"]
                ratios[c][f"{prefix}p99_vs_mlserver"] = med[name][c]["p99_ms"] / med["mlserver"][c]["p99_ms"]
    print_table(["clients", *ratios[levels[0]]], [[c, *ratios[c].values()] for c in levels])
    path = write_results("decode", {"seconds": args.seconds, "repeats": args.repeats, "median": med,
                                    "ratios": ratios, "rounds": rounds})  # fmt: skip
    print(f"wrote {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

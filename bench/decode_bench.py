"""Decode throughput and latency at 1, 8, 32, 64 concurrent clients, batching on vs off.

    python -m bench.decode_bench [--seconds 5] [--model vae-mnist-16d]

Both servers run in their own process on this machine, one after the other, with
the same clients; the table shows requests/s, p50/p99 latency and the on/off ratio.
"""

from __future__ import annotations

import argparse

import grpc
import numpy as np

from bench.common import closed_loop, machine, print_table, server_process, write_results
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc


def run(batching: bool, model: str, levels: list[int], seconds: float, points: int) -> dict[int, dict]:
    flag = "--batching" if batching else "--no-batching"
    results = {}
    with server_process(flag) as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        size = stub.GetModel(pb.GetModelRequest(name=model)).latent_size
        rng = np.random.default_rng(0)
        request = pb.DecodeRequest(
            model=model, latents=[pb.Vector(values=rng.standard_normal(size).tolist()) for _ in range(points)]
        )
        stub.Decode(request)  # warm the connection
        for clients in levels:
            results[clients] = closed_loop(lambda: stub.Decode(request, timeout=30), clients, seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vae-mnist-16d")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--points", type=int, default=1, help="latent points per request")
    parser.add_argument("--levels", default="1,8,32,64")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    on = run(True, args.model, levels, args.seconds, args.points)
    off = run(False, args.model, levels, args.seconds, args.points)
    rows = [
        [
            c,
            on[c].throughput,
            off[c].throughput,
            on[c].throughput / off[c].throughput,
            on[c].p50_ms,
            on[c].p99_ms,
            off[c].p50_ms,
            off[c].p99_ms,
            on[c].errors + off[c].errors,
        ]
        for c in levels
    ]
    print(f"Decode, {args.points} point(s)/request, model {args.model}; {machine()['cpu']}, {machine()['cores']} cores")
    print_table(
        ["clients", "req/s on", "req/s off", "ratio", "p50 on ms", "p99 on ms", "p50 off ms", "p99 off ms", "errors"],
        rows,
    )
    path = write_results(
        "decode",
        {"model": args.model, "points": args.points, "seconds": args.seconds, "batching_on": on, "batching_off": off},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

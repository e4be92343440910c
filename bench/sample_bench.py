"""SampleStream at 1, 16, 64, 256 and 1,024 concurrent streams, against a bare grpc.aio floor.

    python -m bench.sample_bench [--seconds 8] [--repeats 3] [--levels 1,16,64,256,1024] [--workers 1,2]

The default model repository in its own process (defaults, so the capacity is the
shipped one), driven by closed-loop asyncio clients in a process of their own
(``bench.loadgen``): each stream asks for ``--tokens`` characters and, when it ends,
the client starts another. Figures: aggregate characters/s, p50/p99 time to first
chunk, p99 gap between chunks. The floor (``bench.floor``) sends prebuilt
one-character chunks at 1 and 256 streams. Then the memory of idle streams: the
server's resident set with ``--idle`` streams open (admitted, not read) against none.
Medians over ``--repeats`` rounds. ``--workers 1,2`` adds the server with 2 worker processes
(``oneiros-w2``; the idle-stream memory is measured on the single process only), best with
``--connections 8`` (workers share connections, not calls; every server gets the same).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import grpc

from bench.common import machine, median, print_table, server_process_with_pid, write_results
from bench.decode_bench import floor, load
from bench.soak import rss_bytes
from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

METHOD = "/oneiros.v1.Oneiros/SampleStream"


async def idle_streams(target: str, count: int, pid: int) -> dict:
    """Open ``count`` long streams and read nothing (admitted: running or queued); RSS before and during."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        await asyncio.sleep(1)
        before = rss_bytes(pid)
        calls = [stub.SampleStream(pb.SampleRequest(prompt="And", max_tokens=2048)) for _ in range(count)]
        await asyncio.gather(*(call.initial_metadata() for call in calls))  # every call reached the server
        await asyncio.sleep(3)
        during = rss_bytes(pid)
        for call in calls:
            call.cancel()
    return {"streams": count, "rss_before_mb": before / 2**20, "rss_during_mb": during / 2**20,
            "per_stream_kb": (during - before) / count / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--levels", default="1,16,64,256,1024")
    parser.add_argument("--idle", type=int, default=1024)
    parser.add_argument("--workers", default="1", help="Oneiros --workers values to run (1 = oneiros)")
    parser.add_argument("--connections", type=int, default=1, help="HTTP/2 connections the clients share")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    work = Path(tempfile.mkdtemp(prefix="sample-bench-"))
    body = work / "request.bin"
    body.write_bytes(pb.SampleRequest(prompt="And", max_tokens=args.tokens, temperature=1.0).SerializeToString())
    (work / "response.bin").write_bytes(b"")
    variants = {"oneiros": ()} | {f"oneiros-w{n}": ("--workers", n) for n in args.workers.split(",") if n != "1"}
    rounds: dict[str, dict[int, list[dict]]] = {name: {c: [] for c in levels} for name in variants}
    rounds["floor"] = {1: [], 256: []}
    idle: list[dict] = []
    for _ in range(args.repeats):
        # Queued streams wait for a slot as long as it takes (the default limit, 10 s, would tell
        # some of 1,024 to retry): this measures throughput and memory, not admission.
        for name, flags in variants.items():
            with server_process_with_pid("--batch-max-queue-wait-s", "0", *flags) as (port, pid, _):
                target = f"127.0.0.1:{port}"
                for streams in levels:
                    rounds[name][streams].append(
                        load("stream", target, METHOD, body, streams, args.seconds, args.connections)
                    )
                if name == "oneiros":
                    idle.append(asyncio.run(idle_streams(target, args.idle, pid)))
                time.sleep(1)
        with floor(work / "response.bin") as target:
            for streams in rounds["floor"]:
                rounds["floor"][streams].append(
                    load("stream", target, METHOD, body, streams, args.seconds, args.connections)
                )
    med = {
        name: {
            c: {k: median([r[k] for r in runs]) for k in runs[0] if k not in ("error_codes", "error_details")}
            for c, runs in per.items()
        }
        for name, per in rounds.items()
    }
    cpu = machine()
    print(f"SampleStream, {args.tokens} chars/stream, charlm-kjv; {cpu['cpu']}, {cpu['cores']} cores; "
          f"medians of {args.repeats}")  # fmt: skip
    headers = ["server", "streams", "chars/s", "TTFC p50 ms", "TTFC p99 ms", "gap p99 ms", "finished", "errors"]
    rows = [
        [name, c, m["chars_per_s"], m["ttfc_p50_ms"], m["ttfc_p99_ms"], m["gap_p99_ms"], m["finished"], m["errors"]]
        for name, per in med.items()
        for c, m in per.items()
    ]
    print_table(headers, rows)
    one = med["oneiros"]
    ratios = {}
    if 1 in one and 16 in one:
        ratios["16_vs_1"] = one[16]["chars_per_s"] / one[1]["chars_per_s"]
    for name in variants:
        prefix = "" if name == "oneiros" else f"{name}_"
        if 256 in med[name]:
            ratios[f"{prefix}256_vs_floor"] = med[name][256]["chars_per_s"] / med["floor"][256]["chars_per_s"]
            ratios[f"{prefix}256_ttfc_p99_ms"] = med[name][256]["ttfc_p99_ms"]
    idle_med = {k: median([r[k] for r in idle]) for k in idle[0]}
    print_table(list(ratios), [list(ratios.values())])
    print(f"idle streams: {idle_med['streams']:.0f} open, {idle_med['per_stream_kb']:.1f} KiB each "
          f"(RSS {idle_med['rss_before_mb']:.0f} -> {idle_med['rss_during_mb']:.0f} MiB)")  # fmt: skip
    path = write_results("sample", {"tokens": args.tokens, "seconds": args.seconds, "median": med,
                                    "ratios": ratios, "idle": idle_med, "rounds": rounds})  # fmt: skip
    print(f"wrote {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

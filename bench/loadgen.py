"""Closed-loop asyncio gRPC clients, in a process of their own, for any server.

    python -m bench.loadgen unary  TARGET METHOD REQUEST_FILE --clients 64 --seconds 5
    python -m bench.loadgen stream TARGET METHOD REQUEST_FILE --clients 256 --seconds 5 [--connections 8]

The request is a file of serialized protobuf bytes and responses are not parsed
(stream messages are, minimally, for their text), so the very same clients drive
Oneiros, a peer server and the bare floor. Prints one JSON object: throughput,
latency percentiles and errors (unary); characters/s, time to first chunk and gaps
between chunks (stream). The clients share ``--connections`` HTTP/2 connections (default
1), client i on connection i mod N: servers that balance connections over processes
(``--workers``, SO_REUSEPORT) need more than one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import grpc

from bench.common import closed_loop_summary, percentile
from oneiros.v1 import oneiros_pb2 as pb


def _identity(b: bytes) -> bytes:
    return b


def _channels(target: str, connections: int, options: list) -> list[grpc.aio.Channel]:
    """``connections`` channels, each with its own connection (grpc shares one per target otherwise)."""
    own = [("grpc.use_local_subchannel_pool", 1)] if connections > 1 else []
    return [grpc.aio.insecure_channel(target, options=options + own) for _ in range(connections)]


async def unary(target: str, method: str, request: bytes, clients: int, seconds: float, connections: int = 1) -> dict:
    latencies: list[float] = []
    errors = 0
    channels = _channels(target, connections, [])
    try:
        calls = [c.unary_unary(method, request_serializer=_identity, response_deserializer=_identity) for c in channels]
        for call in calls:
            await call(request, timeout=30)  # warm the connections
        stop_at = time.perf_counter() + seconds

        async def client(call) -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    await call(request, timeout=30)
                except grpc.RpcError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(client(calls[i % connections]) for i in range(clients)))
        elapsed = time.perf_counter() - began
    finally:
        for channel in channels:
            await channel.close()
    return closed_loop_summary(latencies, clients, elapsed, errors)


def _text_length(message: bytes) -> int:
    return len(pb.SampleChunk.FromString(message).text)


async def stream(target: str, method: str, request: bytes, clients: int, seconds: float, connections: int = 1) -> dict:
    first: list[float] = []
    gaps: list[float] = []
    chars = 0
    errors = 0
    codes: dict[str, int] = {}
    details: dict[str, int] = {}  # "CODE: details (seconds into the call, rounded)" -> count
    streams = 0
    channels = _channels(target, connections, [("grpc.max_concurrent_streams", 4096)])
    try:
        calls = [
            c.unary_stream(method, request_serializer=_identity, response_deserializer=_identity) for c in channels
        ]
        for call in calls:
            async for _ in call(request, timeout=60):  # warm the connections
                pass
        stop_at = time.perf_counter() + seconds

        async def client(call) -> None:
            nonlocal chars, errors, streams
            while time.perf_counter() < stop_at:
                started = last = time.perf_counter()
                seen = False
                try:
                    async for message in call(request, timeout=120):
                        now = time.perf_counter()
                        if seen:
                            gaps.append(now - last)
                        else:
                            first.append(now - started)
                            seen = True
                        last = now
                        if now < stop_at:
                            chars += _text_length(message)
                except grpc.RpcError as err:
                    errors += 1
                    codes[err.code().name] = codes.get(err.code().name, 0) + 1
                    key = f"{err.code().name}: {err.details()} (after ~{round(time.perf_counter() - started)} s)"
                    details[key] = details.get(key, 0) + 1
                    continue
                streams += 1

        began = time.perf_counter()
        await asyncio.gather(*(client(calls[i % connections]) for i in range(clients)))
        elapsed = min(time.perf_counter(), stop_at) - began
    finally:
        for channel in channels:
            await channel.close()
    first.sort()
    gaps.sort()
    return {
        "streams": clients,
        "finished": streams,
        "seconds": elapsed,
        "chars_per_s": chars / elapsed,
        "ttfc_p50_ms": percentile(first, 50) * 1e3,
        "ttfc_p99_ms": percentile(first, 99) * 1e3,
        "gap_p99_ms": percentile(gaps, 99) * 1e3,
        "errors": errors,
        "error_codes": codes,
        "error_details": dict(sorted(details.items(), key=lambda kv: -kv[1])[:10]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["unary", "stream"])
    parser.add_argument("target")
    parser.add_argument("method")
    parser.add_argument("request_file")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=1, help="HTTP/2 connections the clients share")
    args = parser.parse_args()
    request = open(args.request_file, "rb").read()
    run = unary if args.mode == "unary" else stream
    connections = max(1, min(args.connections, args.clients))
    print(json.dumps(asyncio.run(run(args.target, args.method, request, args.clients, args.seconds, connections))))


if __name__ == "__main__":
    main()

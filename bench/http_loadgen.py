"""Closed-loop asyncio HTTP/1.1 clients (one keep-alive connection each), in a process of their own.

    python -m bench.http_loadgen HOST:PORT PATH BODY_FILE --clients 64 --seconds 5

Each client POSTs the JSON body back to back on its own connection and reads the whole
answer (``Content-Length``); no HTTP library, so the clients cost little next to the
server. Prints one JSON object in the shape of ``bench.loadgen unary``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.common import closed_loop_summary


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def unary(target: str, path: str, body: bytes, clients: int, seconds: float) -> dict:
    host, port = target.rsplit(":", 1)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {target}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    stop_at = 0.0

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request)
        await _read_response(reader)  # warm the connection
        await ready.wait()
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            if await _read_response(reader) != 200:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
        writer.close()

    ready = asyncio.Event()
    tasks = [asyncio.ensure_future(client()) for _ in range(clients)]
    await asyncio.sleep(0.5)  # connections open and warm
    began = time.perf_counter()
    stop_at = began + seconds
    ready.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    return closed_loop_summary(latencies, clients, elapsed, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target")
    parser.add_argument("path")
    parser.add_argument("body_file")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    body = open(args.body_file, "rb").read()
    print(json.dumps(asyncio.run(unary(args.target, args.path, body, args.clients, args.seconds))))


if __name__ == "__main__":
    main()

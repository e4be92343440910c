"""Hostile HTTP requests against a server while a health checker measures its event loop.

    python -m bench.hostile_probe [--only NAME,...] [--timeout 30]

One Oneiros server (the default model repository, its own process). Two checker processes
call ``GET /healthz`` and ``grpc.health.v1.Health/Check`` every 50 ms; while each hostile
request of issue 25 is processed, the probe records the checkers' latencies (p99 and max;
a check still waiting when the request ends counts with its time so far) and the hostile
request's status and time. Target: p99 under 0.25 s and a 4xx within seconds. Prints a
table and writes bench/results/hostile_probe.json.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import socket
import time

import grpc
import httpx
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from bench.common import machine, print_table, server_process_with_pid, write_results
from bench.decode_bench import free_port

PERIOD_S = 0.05


def check_loop(http_url: str, grpc_target: str, kind: str, ready, stop, out) -> None:
    """In a process of its own (so the probe's own work cannot delay it): one health check every
    ``PERIOD_S``; sends back [(start, seconds, ok)] when ``stop`` is set."""
    if kind == "http":
        client = httpx.Client(base_url=http_url, timeout=60)
        check = lambda: client.get("/healthz").raise_for_status()  # noqa: E731
    else:
        stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(grpc_target))
        check = lambda: stub.Check(health_pb2.HealthCheckRequest(), timeout=60)  # noqa: E731
    seen = []
    while not stop.is_set():
        started = time.monotonic()
        try:
            check()
            ok = True
        except Exception:
            ok = False
        seen.append((started, time.monotonic() - started, ok))
        ready.set()
        stop.wait(max(0.0, PERIOD_S - (time.monotonic() - started)))
    out.send(seen)


def between(seen: list, start: float, end: float) -> list[float]:
    """Latencies of the checks that started in [start, end], and of one still waiting at ``end``."""
    return [min(s, end - t) if t + s > end else s for t, s, _ in seen if start - PERIOD_S <= t <= end]


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


def png16(side: int) -> bytes:
    ramp = (np.arange(side * side, dtype=np.uint32) % 65536).astype(np.uint16).reshape(side, side)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, "PNG")
    return buffer.getvalue()


def cases() -> dict[str, tuple[str, str, dict]]:
    """Issue 25's hostile requests: name -> (method, path, httpx keyword arguments), bodies prebuilt."""
    json_type = {"content-type": "application/json"}
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    multipart_type = {"content-type": "multipart/form-data; boundary=x"}

    def raw(body: bytes, headers: dict = json_type) -> dict:
        return {"content": body, "headers": headers}

    def as_json(data: dict) -> dict:
        return raw(json.dumps(data).encode())

    latents = b'{"latents": [' + b",".join([b"{}"] * 500_000) + b"]}"
    strengths = b'{"latent": {"values": [0]}, "strengths": [' + b",".join([b"0"] * 1_000_000) + b"]}"
    return {
        "decode: 500,000 empty latents (1.5 MB)": ("POST", "/v1/decode", raw(latents)),
        "edit: 2 MB of strengths": ("POST", "/v1/edit-latent", raw(strengths)),
        "decode: 4 MB of '&' as a form": ("POST", "/v1/decode", raw(b"&" * (4 << 20), form_type)),
        "decode: 4.8 MB of multipart separators": ("POST", "/v1/decode", raw(b"--x\r\n" * 960_000, multipart_type)),
        "sample: a 10 M-character prompt": ("POST", "/v1/sample", as_json({"prompt": "a" * 10_000_000})),
        "edit: a 4096x4096 16-bit PNG": ("POST", "/v1/edit-latent", {"files": {"image": ("big.png", png16(4096))}}),
        "completions: 100,000 prompts (600 KB)": (
            "POST",
            "/v1/completions",
            as_json({"prompt": ["a"] * 100_000, "max_tokens": 1}),
        ),
        "completions: 80 prompts x n 16": ("POST", "/v1/completions", as_json({"prompt": ["a"] * 80, "n": 16})),
        "completions: n 1e999": ("POST", "/v1/completions", raw(b'{"prompt": "a", "n": 1e999}')),
        "decode: a 5,000-digit integer": ("POST", "/v1/decode", raw(b'{"count": ' + b"9" * 5000 + b"}")),
        "decode: a lone surrogate key": ("POST", "/v1/decode", raw(b'{"\\ud800": 1}')),
        "models: a 16 MiB header": ("GET", "/v1/models", {"headers": {"x-big": "a" * (16 << 20)}}),
        "models: 5,000 headers": ("GET", "/v1/models", {"headers": [(f"x-h{i}", "1") for i in range(5000)]}),
        "models/ with Host: evil.example": ("GET", "/v1/models/", {"headers": {"host": "evil.example"}}),
        "sample: a cross-site form POST": (
            "POST",
            "/v1/sample",
            raw(b"prompt=a&max_tokens=1", form_type | {"origin": "https://evil.example"}),
        ),
    }


def slow_drip(port: int, sockets: int, seconds: float) -> int:
    """Open ``sockets`` connections that send a header byte every second; how many are open after ``seconds``."""
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(sockets)]
    for c in conns:
        c.sendall(b"POST /v1/decode HTTP/1.1\r\nhost: x\r\n")
        c.settimeout(0.01)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1)
        for c in conns:
            try:
                c.sendall(b"x")
            except OSError:
                pass
    open_now = 0
    for c in conns:
        try:
            c.recv(1 << 16)  # an answer (408, 431) or the end of the stream: closed by the server
        except TimeoutError:
            open_now += 1  # still waiting for more of the request
        except OSError:
            pass
        c.close()
    return open_now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated substrings of the case names to run")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per hostile request (s)")
    parser.add_argument("--drip-seconds", type=float, default=20.0)
    args = parser.parse_args()
    http_port = free_port()
    chosen = {k: v for k, v in cases().items() if not args.only or any(s in k for s in args.only.split(","))}
    rows, results, windows = [], [], []
    context = multiprocessing.get_context("spawn")
    with server_process_with_pid("--http-port", str(http_port)) as (port, _pid, _):
        base = f"http://127.0.0.1:{http_port}"
        stop = context.Event()
        checkers = {}
        for kind in ("http", "grpc"):
            receive, send = context.Pipe(duplex=False)
            ready = context.Event()
            process = context.Process(target=check_loop, args=(base, f"127.0.0.1:{port}", kind, ready, stop, send))
            process.start()
            checkers[kind] = (process, receive)
            ready.wait(120)  # its first check is done
        for name, (method, path, kwargs) in chosen.items():
            with httpx.Client(base_url=base, timeout=args.timeout) as hostile:
                started = time.monotonic()
                try:
                    status = str(hostile.request(method, path, **kwargs).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                ended = time.monotonic()
            windows.append((name, status, started, ended))
            time.sleep(1)  # let the server settle between cases
        if not args.only or "drip" in args.only:
            started = time.monotonic()
            still_open = slow_drip(http_port, 10, args.drip_seconds)
            name = f"10 slow-drip header sockets, open after {args.drip_seconds:.0f} s"
            windows.append((name, str(still_open), started, time.monotonic()))
        stop.set()
        seen = {kind: receive.recv() for kind, (_, receive) in checkers.items()}
        for process, _ in checkers.values():
            process.join(30)
    failures = {kind: sum(not ok for _, _, ok in checks) for kind, checks in seen.items()}
    for name, status, started, ended in windows:
        row = {"case": name, "status": status, "seconds": ended - started}
        for kind, checks in seen.items():
            window = between(checks, started, ended)
            row |= {f"{kind}_p99_s": p99(window), f"{kind}_max_s": max(window, default=float("nan"))}
        results.append(row)
        rows.append(list(row.values()))
    cpu = machine()
    load = os.getloadavg()[0]
    print(f"hostile probe; {cpu['cpu']}, {cpu['cores']} cores, load average {load:.1f}; checks every {PERIOD_S:.2f} s")
    print_table(["case", "status", "seconds", "http p99 s", "http max s", "grpc p99 s", "grpc max s"], rows)
    print(json.dumps({"failed_health_checks": failures}))
    print(f"wrote {write_results('hostile_probe', {'cases': results})}")


if __name__ == "__main__":
    main()

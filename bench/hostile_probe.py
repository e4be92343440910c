"""Hostile HTTP requests against a server while a health checker measures its event loop.

    python -m bench.hostile_probe [--only NAME,...] [--timeout 30]

One Oneiros server (the default model repository, its own process). Two checker threads
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
import socket
import threading
import time
from collections.abc import Callable

import grpc
import httpx
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from bench.common import machine, print_table, server_process_with_pid, write_results
from bench.decode_bench import free_port

PERIOD_S = 0.05


class HealthChecker:
    """Calls ``check()`` every ``PERIOD_S`` on a thread; ``window()`` collects latencies over a block."""

    def __init__(self, check: Callable[[], None]):
        self.check = check
        self.latencies: list[tuple[float, float]] = []  # (start, seconds)
        self.pending_since: float | None = None
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> HealthChecker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.pending_since = started
            try:
                self.check()
            except Exception:
                self.failures += 1
            self.pending_since = None
            self.latencies.append((started, time.monotonic() - started))
            self._stop.wait(max(0.0, PERIOD_S - (time.monotonic() - started)))

    def between(self, start: float, end: float) -> list[float]:
        seconds = [s for t, s in self.latencies if start <= t <= end]
        pending = self.pending_since
        if pending is not None and pending <= end:
            seconds.append(end - pending)
        return seconds


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


def png16(side: int) -> bytes:
    ramp = (np.arange(side * side, dtype=np.uint32) % 65536).astype(np.uint16).reshape(side, side)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, "PNG")
    return buffer.getvalue()


def cases() -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """Issue 25's hostile requests, one function each."""
    json_type = {"content-type": "application/json"}
    form_type = {"content-type": "application/x-www-form-urlencoded"}
    boundary = "x"
    separators = (f"--{boundary}\r\n" * 400_000).encode()
    return {
        "decode: 500,000 empty latents (1.5 MB)": lambda h: h.post(
            "/v1/decode", content=b'{"latents": [' + b",".join([b"{}"] * 500_000) + b"]}", headers=json_type
        ),
        "edit: 2 MB of strengths": lambda h: h.post(
            "/v1/edit-latent",
            content=b'{"latent": {"values": [0]}, "strengths": [' + b",".join([b"0"] * 1_000_000) + b"]}",
            headers=json_type,
        ),
        "decode: 4 MB of '&' as a form": lambda h: h.post("/v1/decode", content=b"&" * (4 << 20), headers=form_type),
        "decode: 4.8 MB of multipart separators": lambda h: h.post(
            "/v1/decode", content=separators, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        ),
        "sample: a 10 M-character prompt": lambda h: h.post("/v1/sample", json={"prompt": "a" * 10_000_000}),
        "edit: a 4096x4096 16-bit PNG": lambda h: h.post(
            "/v1/edit-latent", files={"image": ("big.png", png16(4096), "image/png")}
        ),
        "completions: 100,000 prompts (600 KB)": lambda h: h.post(
            "/v1/completions", json={"prompt": ["a"] * 100_000, "max_tokens": 1}
        ),
        "completions: 80 prompts x n 16": lambda h: h.post(
            "/v1/completions", json={"prompt": ["a"] * 80, "n": 16, "max_tokens": 1}
        ),
        "completions: n 1e999": lambda h: h.post(
            "/v1/completions", content=b'{"prompt": "a", "n": 1e999}', headers=json_type
        ),  # fmt: skip
        "decode: a 5,000-digit integer": lambda h: h.post(
            "/v1/decode", content=b'{"count": ' + b"9" * 5000 + b"}", headers=json_type
        ),
        "decode: a lone surrogate key": lambda h: h.post("/v1/decode", content=b'{"\\ud800": 1}', headers=json_type),
        "models: a 16 MiB header": lambda h: h.get("/v1/models", headers={"x-big": "a" * (16 << 20)}),
        "models: 5,000 headers": lambda h: h.get("/v1/models", headers=[(f"x-h{i}", "1") for i in range(5000)]),
        "models/ with Host: evil.example": lambda h: h.get("/v1/models/", headers={"host": "evil.example"}),
        "sample: a cross-site form POST": lambda h: h.post(
            "/v1/sample", content=b"prompt=a&max_tokens=1", headers=form_type | {"origin": "https://evil.example"}
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
    rows, results = [], []
    with server_process_with_pid("--http-port", str(http_port)) as (port, _pid, _):
        base = f"http://127.0.0.1:{http_port}"
        probe_http = httpx.Client(base_url=base, timeout=60)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = health_pb2_grpc.HealthStub(channel)
        checkers = {
            "http": HealthChecker(lambda: probe_http.get("/healthz").raise_for_status()).start(),
            "grpc": HealthChecker(lambda: stub.Check(health_pb2.HealthCheckRequest(), timeout=60)).start(),
        }
        for name, send in chosen.items():
            with httpx.Client(base_url=base, timeout=args.timeout) as hostile:
                started = time.monotonic()
                try:
                    status = str(send(hostile).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                ended = time.monotonic()
            row = {"case": name, "status": status, "seconds": ended - started}
            for kind, checker in checkers.items():
                seen = checker.between(started, ended)
                row |= {f"{kind}_p99_s": p99(seen), f"{kind}_max_s": max(seen, default=float("nan"))}
            results.append(row)
            rows.append(list(row.values()))
            time.sleep(1)  # let the server settle between cases
        if not args.only or "drip" in args.only:
            started = time.monotonic()
            still_open = slow_drip(http_port, 10, args.drip_seconds)
            row = {"case": f"10 slow-drip header sockets, open after {args.drip_seconds:.0f} s", "status": still_open}
            row["seconds"] = time.monotonic() - started
            for kind, checker in checkers.items():
                seen = checker.between(started, time.monotonic())
                row |= {f"{kind}_p99_s": p99(seen), f"{kind}_max_s": max(seen, default=float("nan"))}
            results.append(row)
            rows.append(list(row.values()))
        for checker in checkers.values():
            checker.stop()
        channel.close()
    cpu = machine()
    print(f"hostile probe; {cpu['cpu']}, {cpu['cores']} cores; health checks every {PERIOD_S * 1000:.0f} ms")
    print_table(["case", "status", "seconds", "http p99 s", "http max s", "grpc p99 s", "grpc max s"], rows)
    print(json.dumps({"failures": {k: c.failures for k, c in checkers.items()}}))
    print(f"wrote {write_results('hostile_probe', {'cases': results})}")


if __name__ == "__main__":
    main()

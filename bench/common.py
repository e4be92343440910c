"""Shared bench plumbing: a server in its own process, closed-loop clients, tables and JSON."""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


@contextmanager
def server_process_with_pid(*args: str):
    """``python -m oneiros_server --port 0 ARGS`` in a child process, its models loaded (in every
    worker with ``--workers``); yields (gRPC port, pid, metrics port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "oneiros_server", "--port", "0", "--metrics-port", "-1", "--http-port", "-1", *args],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = metrics_port = None
    workers = args[args.index("--workers") + 1] if "--workers" in args else "1"
    ready = "models loaded" if workers == "1" else "every worker serving"
    try:
        for line in proc.stderr:
            entry = json.loads(line)
            if entry.get("msg") == "listening" and (port is None or "workers" in entry):
                port = int(entry["address"].rsplit(":", 1)[1])
                metrics_port = entry.get("metrics_port")
            if entry.get("msg") == ready:
                break
        if port is None:
            raise RuntimeError("the server did not start")
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
        yield port, proc.pid, metrics_port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def server_process(*args: str):
    """As ``server_process_with_pid``, yielding only the gRPC port."""
    with server_process_with_pid(*args) as (port, _pid, _metrics_port):
        yield port


@dataclass
class LoadResult:
    clients: int
    requests: int
    seconds: float
    throughput: float  # requests/s
    p50_ms: float
    p99_ms: float
    errors: int


def closed_loop(call: Callable[[], None], clients: int, seconds: float) -> LoadResult:
    """``clients`` threads call ``call`` back to back for ``seconds``; latencies per call."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(i: int) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                call()
            except Exception:
                errors[i] += 1
                continue
            latencies[i].append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    return LoadResult(
        clients,
        len(flat),
        elapsed,
        len(flat) / elapsed,
        percentile(flat, 50) * 1e3,
        percentile(flat, 99) * 1e3,
        sum(errors),
    )


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def closed_loop_summary(latencies: list[float], clients: int, elapsed: float, errors: int) -> dict:
    """One closed-loop load run's figures: throughput and latency percentiles of the calls that succeeded."""
    flat = sorted(latencies)
    return {
        "clients": clients,
        "requests": len(flat),
        "seconds": elapsed,
        "throughput": len(flat) / elapsed,
        "p50_ms": percentile(flat, 50) * 1e3,
        "p99_ms": percentile(flat, 99) * 1e3,
        "errors": errors,
    }


def median(values: list[float]) -> float:
    return statistics.median(values)


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"), **payload}
    path.write_text(json.dumps(payload, indent=2, default=lambda o: asdict(o)))
    return path


def cpu_bf16_report() -> dict:
    """The CPU by name, the torch kernel level and the bf16/AMX flags that decide ``--precision auto``."""
    import torch

    from oneiros_server.runtime import precision

    flags = precision.cpu_flags()
    support = precision.cpu_bf16_support()
    return {
        "cpu": machine()["cpu"],
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_cpu_capability": precision.cpu_capability(),
        "flags": {f: f in flags for f in ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2")},
        "auto_precision_cpu": "bf16" if support.fast else "fp32",
        "load_average_1m": os.getloadavg()[0],
    }


def describe_cpu(report: dict) -> str:
    flags = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in report["flags"].items())
    return (
        f"{report['cpu']} ({report['cores']} cores, torch {report['torch']}, {report['torch_threads']} threads,"
        f" kernels {report['torch_cpu_capability']}; {flags}; auto -> {report['auto_precision_cpu']};"
        f" load {report['load_average_1m']:.1f})"
    )

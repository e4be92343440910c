"""Load, soak and fault checks against a running server (loopback only, bounded in time).

    python -m bench.soak [--clients 64] [--seconds 60] [--requests 10000] [--streams 100]

Three checks, each printing its figures: a mixed workload of every RPC with only
OK / RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED allowed; resident memory growth over
many Decode and Sample calls; and cancelling in-flight streams leaves no job or
sequence running (read from /metrics). ``tests/server/e2e/test_load.py`` runs small versions.
"""

from __future__ import annotations

import argparse
import io
import random
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import grpc
import numpy as np
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}


def test_image(side: int = 48, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    rgb = np.stack([x, y, (x + y) / 2], -1) * 200 + rng.uniform(0, 55, (side, side, 3))
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def workload(stub: oneiros_pb2_grpc.OneirosStub, families: set[str]) -> dict[str, callable]:
    """One small request per RPC whose family has a ready model."""
    image = pb.Image(data=test_image())
    calls = {}
    if "Decode" in families:
        calls["Decode"] = lambda t: stub.Decode(pb.DecodeRequest(count=4, seed=1), timeout=t)
    if "EditLatent" in families:
        calls["EditLatent"] = lambda t: stub.EditLatent(
            pb.EditLatentRequest(image=image, target_image=pb.Image(data=test_image(seed=2)), interpolation_steps=4),
            timeout=t,
        )
    if "Sample" in families:
        calls["Sample"] = lambda t: stub.Sample(pb.SampleRequest(prompt="And ", max_tokens=16, seed=3), timeout=t)
        calls["SampleStream"] = lambda t: list(
            stub.SampleStream(pb.SampleRequest(prompt="The ", max_tokens=16), timeout=t)
        )
    if "Dream" in families:
        calls["DreamStream"] = lambda t: list(
            stub.DreamStream(pb.DreamRequest(image=image, octaves=1, steps_per_octave=2, max_side=32), timeout=t)
        )
    if "Stylize" in families:
        calls["Stylize"] = lambda t: stub.Stylize(
            pb.StylizeRequest(
                content=image, style=pb.Image(data=test_image(seed=5)), steps=2, max_side=32, optimizer=pb.ADAM
            ),
            timeout=t,
        )
    return calls


def ready_families(stub) -> set[str]:
    families = set()
    for model in stub.ListModels(pb.ListModelsRequest()).models:
        if model.status == pb.READY:
            kind = pb.ModelKind.Name(model.kind)
            families |= {
                "LANGUAGE_MODEL": {"Sample"},
                "CONVNET": {"Dream", "Stylize"},
                "VAE": {"Decode", "EditLatent"},
                "GAN": {"Decode", "EditLatent"},
            }.get(kind, set())
    return families


def mixed_load(
    target: str, clients: int, seconds: float, deadline_s: float = 20.0, tight_share: float = 0.1
) -> Counter:
    """``clients`` threads issue random RPCs for ``seconds``; a share get a very tight deadline."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    with grpc.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        calls = workload(stub, ready_families(stub))

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                name = rng.choice(sorted(calls))
                timeout = 0.005 if rng.random() < tight_share else deadline_s
                try:
                    calls[name](timeout)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as exc:
                    code = exc.code()
                with lock:
                    outcomes[(name, code.name)] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return outcomes


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def memory_growth(target: str, pid: int, requests: int, clients: int = 8) -> tuple[int, int]:
    """RSS after a warm-up of requests/10 calls, and after all ``requests`` Decode/Sample calls."""
    with grpc.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        calls = workload(stub, ready_families(stub))
        names = [n for n in ("Decode", "Sample") if n in calls]
        counter = iter(range(requests))
        lock = threading.Lock()
        marks: dict[str, int] = {}

        def client() -> None:
            while True:
                with lock:
                    i = next(counter, None)
                    if i == requests // 10:
                        marks["warm"] = rss_bytes(pid)
                if i is None:
                    return
                calls[names[i % len(names)]](30)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return marks["warm"], rss_bytes(pid)


def scrape(metrics_port: int) -> dict[str, float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    totals: Counter = Counter()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            totals[sample.name] += sample.value
    return dict(totals)


def cancel_streams(target: str, metrics_port: int, streams: int, settle_s: float = 10.0) -> dict[str, float]:
    """Open ``streams`` long streams, cancel each after its first message; wait for 0 active."""
    with grpc.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)
        families = ready_families(stub)
        image = pb.Image(data=test_image(64))
        openers = []
        if "Sample" in families:
            openers.append(lambda: stub.SampleStream(pb.SampleRequest(prompt="In ", max_tokens=2000)))
        if "Dream" in families:
            openers.append(
                lambda: stub.DreamStream(pb.DreamRequest(image=image, octaves=1, steps_per_octave=200, max_side=64))
            )
        calls = [openers[i % len(openers)]() for i in range(streams)]

        def first_message(call) -> None:
            try:
                next(call)
            except (grpc.RpcError, StopIteration):
                pass  # refused when the queue is full, or cancelled while queued

        # Let every stream start (or queue), then cancel them all, running and queued alike.
        readers = [threading.Thread(target=first_message, args=(c,), daemon=True) for c in calls]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout=max(0.0, 5.0 / len(readers)))
        for call in calls:
            call.cancel()
        deadline = time.monotonic() + settle_s
        while True:
            figures = scrape(metrics_port)
            busy = figures.get("oneiros_jobs_active", 0) + figures.get("oneiros_sequences_active", 0)
            if busy == 0 or time.monotonic() > deadline:
                return figures | {"settle_s": settle_s - max(0.0, deadline - time.monotonic())}
            time.sleep(0.1)


def main() -> None:
    from bench.common import machine, server_process_with_pid

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--streams", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with server_process_with_pid("--metrics-port", "0") as (port, pid, metrics_port):
        target = f"127.0.0.1:{port}"
        outcomes = mixed_load(target, args.clients, args.seconds)
        for (rpc, code), count in sorted(outcomes.items()):
            print(f"mixed load  {rpc:13s} {code:20s} {count}")
        bad = {k: v for k, v in outcomes.items() if grpc.StatusCode[k[1]] not in ALLOWED}
        print(
            f"mixed load: {sum(outcomes.values())} calls from {args.clients} clients in {args.seconds:.0f} s; "
            f"unexpected statuses: {bad or 'none'}"
        )
        before, after = memory_growth(target, pid, args.requests)
        print(
            f"memory: RSS {before / 2**20:.1f} MiB after warm-up, {after / 2**20:.1f} MiB after "
            f"{args.requests} calls ({100 * (after - before) / before:+.2f}%)"
        )
        figures = cancel_streams(target, metrics_port, args.streams)
        print(
            f"cancel {args.streams} streams: jobs active {figures.get('oneiros_jobs_active', 0):.0f}, "
            f"sequences active {figures.get('oneiros_sequences_active', 0):.0f} "
            f"after {figures['settle_s']:.2f} s"
        )


if __name__ == "__main__":
    main()

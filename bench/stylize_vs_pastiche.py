"""Peer benchmark: Oneiros Stylize vs pastiche 1.6.0, same images, size, layers, weights, optimizer, steps.

    python -m bench.stylize_vs_pastiche --side 256 --steps 20 --repeats 3 --style docs/img/style-starry-night.jpg
    python -m bench.stylize_vs_pastiche --side 512 --precisions fp32 bf16 --pastiche-defaults

Both run in this process on the same VGG19 weights (pastiche's 8-bit file) and the same
torch thread count, interleaved, repeat by repeat. Oneiros runs once per ``--precisions``
entry (channels-last backbone; bf16 = bfloat16 autocast) and, unless ``--no-nchw``, on an
NCHW float32 backbone (the engine before channels-last). pastiche runs with our weights
converted (``pastiche_peer.pastiche_weights``) and, with ``--pastiche-defaults``, with its
own (the same layers, other weights). Reported per method (medians): wall time per step
(whole request / steps, set-up included) and per optimisation step alone, and the final
content / style / TV losses of each output image (rounded to 8 bits, as saved) scored in
float32 by ONE function, Oneiros' objective (``oneiros_server.engines.convnet.style_loss``).
Also the style cache (set-up with a cold and a warm cache) and, unless
``--no-coarse-to-fine``, Oneiros with ``coarse_to_fine``. The CPU is named with its
bf16/AMX flags. Writes a table to stdout and JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data

from bench.common import cpu_bf16_report, describe_cpu
from bench.pastiche_peer import preload_pastiche_vgg, run_pastiche
from oneiros_export.style_score import common_loss, model_defaults, quantise
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer, style_size
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl

RESULTS = Path(__file__).resolve().parent / "results"


def load_image(name: str) -> Image.Image:
    """A scikit-image photo by name (chelsea, coffee, brick...) or an image file."""
    if Path(name).is_file():
        return Image.open(name).convert("RGB")
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def run_oneiros(stylizer, content, style, d, steps, coarse_to_fine=False):
    stamps = []
    started = time.perf_counter()
    params = StylizeParams(
        content=content,
        style=style,
        steps=steps,
        max_side=max(content.shape[:2]),
        coarse_to_fine=coarse_to_fine,
        seed=0,
    )
    result = stylizer.run(stylizer.validate(params), CallControl(), lambda e: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - started
    step = statistics.median(np.diff(stamps))
    return dict(
        wall_s=wall,
        step_s=step,
        setup_s=stamps[0] - started - step,
        first_loss=result.loss_history[0],
        image=quantise(result.image),
        cache_hit=result.cache_hit,
        evaluations_per_step=result.evaluations / steps,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=256, help="longest side of the content (px)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both (0 = torch's default)")
    parser.add_argument("--content", default="chelsea", help="a scikit-image photo or an image file")
    parser.add_argument("--style", default="brick", help="a scikit-image photo or an image file (a painting)")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--no-nchw", action="store_true", help="skip Oneiros on an NCHW backbone")
    parser.add_argument("--no-coarse-to-fine", action="store_true")
    parser.add_argument("--pastiche-defaults", action="store_true", help="also time pastiche with its own weights")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    d = model_defaults()
    cpu = cpu_bf16_report()
    print(describe_cpu(cpu), flush=True)

    content_img = load_image(args.content)
    content_img = content_img.resize(
        (args.side, round(args.side * content_img.height / content_img.width)), Image.Resampling.LANCZOS
    )
    style_img = load_image(args.style)
    hw = (content_img.height, content_img.width)
    shw = style_size((style_img.height, style_img.width), hw, 4096)
    style_img = style_img.resize((shw[1], shw[0]), Image.Resampling.LANCZOS)
    content_u8, style_u8 = np.asarray(content_img), np.asarray(style_img)
    tmp = Path(tempfile.mkdtemp())
    content_path, style_path = str(tmp / "content.png"), str(tmp / "style.png")
    content_img.save(content_path)
    style_img.save(style_path)

    cpu_device = torch.device("cpu")
    backbones = {"cl": load_vgg19(None, "cpu"), "nchw": load_vgg19(None, "cpu", channels_last=False)}
    preload_pastiche_vgg()
    defaults = StylizeDefaults.from_parameters(d)
    variants: dict[str, tuple] = {f"oneiros_{p}": ("cl", Precision(p, "cpu")) for p in args.precisions}  # type: ignore[arg-type]
    if not args.no_nchw:
        variants["oneiros_fp32_nchw"] = ("nchw", Precision.fp32())
    runs: dict[str, list[dict]] = {"pastiche": [], **({"pastiche_own_defaults": []} if args.pastiche_defaults else {})}
    runs.update({name: [] for name in variants})
    if not args.no_coarse_to_fine:
        runs["oneiros_coarse_to_fine"] = []
    cache_runs = []
    content, style = content_u8.astype(np.float32) / 255, style_u8.astype(np.float32) / 255

    def stylizer(kind: str, precision: Precision, entries: int = 8) -> Stylizer:
        return Stylizer(backbones[kind], cpu_device, defaults, StyleCache(entries), 4096, 100_000, precision)

    run_pastiche(content_path, style_path, hw, shw, d, 1)  # first-call costs, not timed
    for kind, precision in variants.values():
        run_oneiros(stylizer(kind, precision, 0), content, style, d, 2)
    for _ in range(args.repeats):
        runs["pastiche"].append(run_pastiche(content_path, style_path, hw, shw, d, args.steps))
        if args.pastiche_defaults:
            runs["pastiche_own_defaults"].append(run_pastiche(content_path, style_path, hw, shw, d, args.steps, True))
        for i, (name, (kind, precision)) in enumerate(variants.items()):
            fresh = stylizer(kind, precision)
            cold = run_oneiros(fresh, content, style, d, args.steps)
            runs[name].append(cold)
            if i == 0:
                warm = run_oneiros(fresh, content, style, d, 2)  # same style: its Grams come from the cache
                cache_runs.append(
                    dict(cold_setup_s=cold["setup_s"], warm_setup_s=warm["setup_s"], warm_hit=warm["cache_hit"])
                )
                if not args.no_coarse_to_fine:
                    runs["oneiros_coarse_to_fine"].append(run_oneiros(fresh, content, style, d, args.steps, True))

    summary = {}
    for name, rs in runs.items():
        losses = [common_loss(backbones["nchw"], r["image"], content_u8, style_u8, d) for r in rs]
        summary[name] = dict(
            wall_per_step_s=statistics.median(r["wall_s"] / args.steps for r in rs),
            step_s=statistics.median(r["step_s"] for r in rs),
            wall_s=statistics.median(r["wall_s"] for r in rs),
            first_loss=rs[0]["first_loss"],
            evaluations_per_step=statistics.median(r["evaluations_per_step"] for r in rs),
            **{f"final_{k}": statistics.median(loss[k] for loss in losses) for k in losses[0]},
        )
        Image.fromarray(rs[-1]["image"]).save(tmp / f"{name}.png")
    base = summary["pastiche"]
    for s in summary.values():
        s["wall_per_step_ratio_vs_pastiche"] = s["wall_per_step_s"] / base["wall_per_step_s"]
        s["step_ratio_vs_pastiche"] = s["step_s"] / base["step_s"]
        s["final_total_ratio_vs_pastiche"] = s["final_total"] / base["final_total"]
    first = next(iter(variants))
    for name in variants:
        summary[name]["final_total_vs_" + first] = summary[name]["final_total"] / summary[first]["final_total"]
    cache = {k: statistics.median(float(c[k]) for c in cache_runs) for k in cache_runs[0]}
    print_report(
        args, hw, shw, summary, cache, common_loss(backbones["nchw"], content_u8, content_u8, style_u8, d)["total"]
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    style_name = Path(args.style).stem if Path(args.style).is_file() else args.style
    out = RESULTS / f"stylize_vs_pastiche_{style_name}_{args.side}px_{args.steps}steps.json"
    config = dict(vars(args), content_hw=hw, style_hw=shw, defaults=d)
    out.write_text(json.dumps(dict(cpu=cpu, config=config, summary=summary, cache=cache, images=str(tmp)), indent=2))
    print(f"wrote {out}; images in {tmp}")


def print_report(args, hw, shw, summary: dict, cache: dict, at_init: float) -> None:
    print(
        f"content {args.content} {hw[1]}x{hw[0]}, style {Path(args.style).name} {shw[1]}x{shw[0]},"
        f" {args.steps} L-BFGS steps, {args.repeats} repeats, {torch.get_num_threads()} thread(s)"
    )
    print(
        "| method | s/step (wall) | vs pastiche | s/step (opt) | vs pastiche | content | style | total (fp32 score)"
        " | vs pastiche | evals/step |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for name, s in summary.items():
        print(
            f"| {name} | {s['wall_per_step_s']:.3f} | {s['wall_per_step_ratio_vs_pastiche']:.2f} | {s['step_s']:.3f}"
            f" | {s['step_ratio_vs_pastiche']:.2f} | {s['final_content']:.4g} | {s['final_style']:.4g}"
            f" | {s['final_total']:.4g} | {s['final_total_ratio_vs_pastiche']:.2f} | {s['evaluations_per_step']:.2f} |"
        )
    print(f"loss of the content image (both start there), common function: {at_init:.6g}")
    print(f"style cache: set-up cold {cache['cold_setup_s']:.3f} s, warm {cache['warm_setup_s']:.3f} s")


if __name__ == "__main__":
    main()

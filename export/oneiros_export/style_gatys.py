"""Gatys' optimisation on the evaluation photos: the reference a style network is judged against.

Each run goes through the server's own engine (``Stylizer``, the shared VGG19 in the
precision ``--precision auto`` picks, the model's default layers and weights), on one of
the evaluation photos at ``side`` px (longest side) with the painting as the style.
Results are cached on disk, one PNG (the output, 8-bit) and one JSON (seconds, steps,
CPU) per painting, photo and step count, so the quality report can be rerun for free:

    python -m oneiros_export.style_gatys docs/img/style-starry-night.jpg --steps 100 --threads 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from oneiros_export.style_score import model_defaults, quantise
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer
from oneiros_server.engines.convnet.stylize_params import StylizeDefaults, StylizeParams
from oneiros_server.runtime.precision import choose_precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_server.scheduling.control import CallControl

EVALUATION_PHOTOS = ("coffee", "chelsea", "astronaut", "rocket")  # scikit-image; never trained on
CACHE = Path("runs/style-gatys")


def evaluation_photo(name: str, side: int) -> np.ndarray:
    """A scikit-image photo (or an image file) with its longest side ``side`` px, (H, W, 3) uint8."""
    if Path(name).is_file():
        image = Image.open(name).convert("RGB")
    else:
        from skimage import data

        image = Image.fromarray(getattr(data, name)()).convert("RGB")
    scale = side / max(image.size)
    return np.asarray(image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS))


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def cache_paths(painting: Path, photo: str, side: int, steps: int, cache: Path) -> tuple[Path, Path]:
    digest = hashlib.sha256(painting.read_bytes()).hexdigest()[:12]  # by content: any copy of it hits
    stem = cache / f"painting-{digest}" / f"{Path(photo).stem}-{side}px-{steps}steps"
    return stem.with_suffix(".png"), stem.with_suffix(".json")


class GatysReference:
    """Runs (or reads from the cache) Gatys' stylisation of an evaluation photo."""

    def __init__(self, cache: Path = CACHE):
        self.cache = cache
        self._stylizer: Stylizer | None = None

    def stylizer(self) -> Stylizer:
        if self._stylizer is None:
            precision = choose_precision("auto", torch.device("cpu"))
            defaults = StylizeDefaults.from_parameters(model_defaults())
            self._stylizer = Stylizer(
                load_vgg19(), torch.device("cpu"), defaults, StyleCache(4), 4096, 10_000, precision
            )
        return self._stylizer

    def run(self, painting: Path, photo: str, side: int, steps: int) -> tuple[np.ndarray, dict]:
        """(output uint8, {seconds, steps, side, precision, cpu, threads}); cached."""
        png, meta = cache_paths(painting, photo, side, steps, self.cache)
        if png.exists() and meta.exists():
            return np.asarray(Image.open(png).convert("RGB")), json.loads(meta.read_text())
        content = evaluation_photo(photo, side).astype(np.float32) / 255
        with Image.open(painting) as image:
            style = np.asarray(image.convert("RGB"), dtype=np.float32) / 255
        stylizer = self.stylizer()
        started = time.perf_counter()
        params = StylizeParams(content=content, style=style, steps=steps, max_side=side, seed=0)
        result = stylizer.run(stylizer.validate(params), CallControl(), lambda _: None)
        seconds = time.perf_counter() - started
        info = dict(seconds=round(seconds, 1), steps=steps, side=side, precision=stylizer.precision.name)
        info |= dict(cpu=cpu_name(), threads=torch.get_num_threads())
        png.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(quantise(result.image)).save(png)
        meta.write_text(json.dumps(info) + "\n")
        return quantise(result.image), info


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paintings", nargs="+", type=Path)
    p.add_argument("--photos", nargs="+", default=list(EVALUATION_PHOTOS))
    p.add_argument("--side", type=int, default=512)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", type=Path, default=CACHE)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    reference = GatysReference(args.cache)
    for photo in args.photos:  # every painting on one photo first, so a cut-short run covers each style
        for painting in args.paintings:
            _, info = reference.run(painting, photo, args.side, args.steps)
            print(json.dumps({"painting": painting.name, "photo": photo} | info), flush=True)


if __name__ == "__main__":
    main()

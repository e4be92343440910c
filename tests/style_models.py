"""A tiny style network trained for a few steps and exported, for the STYLE_NETWORK tests."""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

NAME = "style-tiny"
TRAIN_STEPS = 3


def picture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth gradient with noise, (height, width, 3) uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x * 255 // width, y * 255 // height, rng.integers(0, 255, (height, width))], -1)
    return array.astype(np.uint8)


def png(width: int, height: int, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture(width, height, seed)).save(buffer, "PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=1)
def tiny_style_run() -> Path:
    """A training run folder (``final.pt``, ``last.pt``, the log, the photos, the painting); built once per process."""
    from oneiros_training.style_train import main as train_main

    root = Path(tempfile.mkdtemp(prefix="oneiros-style-"))
    photos = root / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(picture(72, 56, seed=i)).save(photos / f"photo{i}.png")
    Image.fromarray(picture(40, 48, seed=9)).save(root / "painting.png")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train_main([*tiny_train_args(root, root / "run"), "--steps", str(TRAIN_STEPS)])
    return root


def tiny_train_args(root: Path, out: Path) -> list[str]:
    """The trainer's arguments for a tiny network on ``tiny_style_run()``'s photos and painting (at ``root``)."""
    args = [str(root / "painting.png"), "--photos", str(root / "photos"), "--out", str(out), "--size", "32"]
    return args + ["--style-side", "48", "--batch", "2", "--width", "4", "--blocks", "1"]


@functools.lru_cache(maxsize=1)
def tiny_style_repository() -> Path:
    """A model repository holding ``style-tiny/1``, exported from ``tiny_style_run()``."""
    from oneiros_export.style_net import export_style_net

    run = tiny_style_run()
    repository = run / "models"
    export_style_net(run / "run" / "final.pt", run / "painting.png", repository, NAME, "A test painting (2026)")
    return repository


def repository_copy(target: Path, with_vgg: bool = False) -> Path:
    """``style-tiny`` (and the shipped VGG19 for Gatys, if asked) in a repository under ``target``."""
    shutil.copytree(tiny_style_repository() / NAME, target / NAME)
    if with_vgg:
        shutil.copytree(Path(__file__).resolve().parents[1] / "models" / "vgg19-imagenet", target / "vgg19-imagenet")
    return target

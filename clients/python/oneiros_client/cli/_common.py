"""Argument parsing and output helpers shared by the command modules."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from .. import images
from ..client import Client

# command(name, help) -> a subparser with the connection options (see build_parser)
Command = Callable[[str, str], argparse.ArgumentParser]


def floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(",", " ").split()]


def vector_or_file(text: str) -> np.ndarray:
    """A latent from a ``.npy``/text file, or inline ``"0.5,-1.2,..."``; (D,) or (N, D)."""
    path = Path(text)
    if path.is_file():
        if path.suffix == ".npy":
            return np.load(path).astype(np.float32)
        rows = [floats(line) for line in path.read_text().splitlines() if line.strip()]
        return np.asarray(rows[0] if len(rows) == 1 else rows, dtype=np.float32)
    return np.asarray(floats(text), dtype=np.float32)


def key_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number (in {text!r})") from None


def save(image: PILImage.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg") and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.save(path)
    return path


def write_images(args: argparse.Namespace, imgs: list[PILImage.Image], latents: np.ndarray, cols: int | None) -> None:
    """One image -> OUTPUT; several -> a grid PNG at OUTPUT (and each image with --each)."""
    out = Path(args.output)
    if len(imgs) == 1:
        img = imgs[0]
        if args.scale != 1:
            img = img.resize((img.width * args.scale, img.height * args.scale), PILImage.Resampling.NEAREST)
        print(f"wrote {save(img, out)}")
    elif imgs:
        grid = images.make_grid(imgs, cols, scale=args.scale)
        print(f"wrote {save(grid, out)} ({len(imgs)} images, {grid.width}x{grid.height})")
    if args.each and len(imgs) > 1:
        for i, img in enumerate(imgs):
            save(img, out.with_name(f"{out.stem}-{i:03d}{out.suffix}"))
        print(f"wrote {len(imgs)} images {out.stem}-000{out.suffix} ...")
    if args.save_latents:
        np.save(args.save_latents, latents)
        print(f"wrote {args.save_latents} {tuple(latents.shape)}")


def make_client(args: argparse.Namespace) -> Client:
    return Client(
        args.target,
        timeout=args.timeout,
        token=args.token,
        tls=args.tls,
        root_certificates=args.ca,
        client_certificate=args.cert,
        client_key=args.key,
        server_name=args.server_name,
        retries=args.retries,
    )


def output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("-o", "--output", default=default, help="PNG to write (a grid when several images)")
    p.add_argument("--each", action="store_true", help="also write each image as OUTPUT-NNN.png")
    p.add_argument("--scale", type=int, default=1, help="enlarge images by this factor (nearest)")
    p.add_argument("--cols", type=int, default=0, help="grid columns (default: automatic)")
    p.add_argument("--save-latents", metavar="FILE.npy", help="save the decoded latents")

"""``oneiros decode`` and ``edit``: latent points to images, and moves in latent space."""

from __future__ import annotations

import argparse

import numpy as np

from ..types import Grid
from ._common import Command, floats, key_value, make_client, output_options, vector_or_file, write_images


def cmd_decode(args: argparse.Namespace) -> int:
    latents = None
    if args.latent or args.z:
        parts = [vector_or_file(args.latent)] if args.latent else []
        parts += [np.asarray(floats(z), dtype=np.float32) for z in args.z or ()]
        latents = np.concatenate([np.atleast_2d(p) for p in parts])
    grid = Grid(args.grid[0], args.grid[1], args.steps, args.extent) if args.grid else None
    if latents is None and grid is None and not args.count:
        args.count = 1
    with make_client(args) as client:
        result = client.decode(latents, count=args.count, seed=args.seed, grid=grid, model=args.model)
    cols = args.cols or (args.steps if grid else None)
    write_images(args, result.images, result.latents, cols)
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    if (args.image is None) == (args.latent is None):
        raise ValueError("give exactly one source: an IMAGE or --latent")
    if args.sweep and args.direction:
        raise ValueError("give at most one of --sweep and --direction")
    target_image = args.target_image
    target_latent = vector_or_file(args.target_latent) if args.target_latent else None
    with make_client(args) as client:
        result = client.edit_latent(
            args.image,
            latent=vector_or_file(args.latent) if args.latent else None,
            edits=args.edit or None,
            direction=vector_or_file(args.direction) if args.direction else None,
            sweep_attribute=args.sweep,
            strengths=floats(args.strengths) if args.strengths else (),
            target_image=target_image,
            target_latent=target_latent,
            interpolation_steps=args.steps,
            interpolation="SLERP" if args.slerp else "LERP",
            model=args.model,
        )
    write_images(args, result.images, result.latents, args.cols or len(result.images))
    return 0


def add_commands(command: Command) -> None:
    p = command("decode", "latent points to images: prior samples, a 2-D grid, or given latents")
    p.add_argument("--model", default="", help="model name (default: the repository's Decode default)")
    p.add_argument("--count", type=int, default=0, help="sample this many points from the prior")
    p.add_argument("--seed", type=int, help="seed for --count (same seed, same images)")
    p.add_argument("--grid", type=int, nargs=2, metavar=("AXIS_X", "AXIS_Y"), help="a grid over two latent axes")
    p.add_argument("--steps", type=int, default=15, help="grid points per side")
    p.add_argument("--extent", type=float, default=0.0, help="grid covers [-extent, extent] (0 = 2.0)")
    p.add_argument("--latent", help="decode the latents in this .npy or text file (one per line)")
    p.add_argument("--z", action="append", help='decode this latent, "v1,v2,..." (repeatable)')
    output_options(p, "decode.png")
    p.set_defaults(run=cmd_decode)

    p = command("edit", "encode an image (or take a latent), move it in latent space, decode")
    p.add_argument("image", nargs="?", help="source image (PNG/JPEG/WebP)")
    p.add_argument("--latent", help='source latent: .npy/text file or "v1,v2,..."')
    p.add_argument("--model", default="", help="model name (default: the repository's EditLatent default)")
    p.add_argument(
        "--edit",
        action="append",
        type=key_value,
        metavar="ATTR=STRENGTH",
        help="apply an attribute vector, e.g. thickness=1.5 (repeatable; applied together)",
    )
    p.add_argument("--sweep", metavar="ATTR", help="sweep along this attribute over --strengths")
    p.add_argument("--direction", help='sweep along a raw direction: file or "v1,v2,..."')
    p.add_argument("--strengths", help="comma-separated strengths, e.g. -2,-1,0,1,2")
    p.add_argument("--target", dest="target_image", metavar="IMG", help="interpolate towards this image")
    p.add_argument("--target-latent", help="interpolate towards this latent")
    p.add_argument("--steps", type=int, default=0, help="interpolation points, both ends included (0 = 8)")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    output_options(p, "edit.png")
    p.set_defaults(run=cmd_edit)

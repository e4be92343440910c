"""``oneiros dream`` and ``stylize``: long image jobs, streamed into a progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import grpc

from ..errors import OneirosError
from ._common import Command, key_value, make_client, save


def _run_job(stream: Any, args: argparse.Namespace, what: str) -> Any:
    """Drive a Dream/Stylize stream with a tqdm bar; return the final result."""
    from tqdm import tqdm

    result = None
    bar = tqdm(desc=what, unit="step", disable=args.quiet, file=sys.stderr)
    preview_dir = Path(args.preview_dir) if args.preview_dir else None
    try:
        for event in stream:
            if not hasattr(event, "step"):
                result = event
                continue
            if event.total_steps and bar.total != event.total_steps:
                bar.total = event.total_steps
            bar.update(max(0, event.step - bar.n))
            postfix = {"loss": f"{event.loss:.4g}"}
            if event.octave:
                postfix["octave"] = event.octave
            if event.style_loss or event.content_loss:
                postfix.update(content=f"{event.content_loss:.3g}", style=f"{event.style_loss:.3g}")
            bar.set_postfix(postfix, refresh=False)
            if event.preview is not None and preview_dir is not None:
                save(event.preview, preview_dir / f"{what}-{event.step:05d}.png")
    finally:
        stream.close()
        bar.close()
    if result is None:
        raise OneirosError(grpc.StatusCode.UNKNOWN, "the stream ended without a result")
    return result


def cmd_dream(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        stream = client.dream_stream(
            args.image,
            model=args.model,
            layer_weights=dict(args.layer or ()),
            octaves=args.octaves,
            octave_scale=args.octave_scale,
            steps_per_octave=args.steps,
            step_size=args.step_size,
            max_loss=args.max_loss,
            jitter=args.jitter,
            seed=args.seed,
            max_side=args.max_side,
            preview_every=args.preview_every,
        )
        result = _run_job(stream, args, "dream")
    path = save(result.image, args.output)
    final = f", final loss {result.loss_history[-1]:.4g}" if result.loss_history else ""
    print(f"wrote {path} ({result.image.width}x{result.image.height}) in {result.elapsed_ms / 1000:.1f} s{final}")
    return 0


def cmd_stylize(args: argparse.Namespace) -> int:
    if args.style is None and not args.model:
        print("oneiros stylize: give a style image, or --model naming a style network", file=sys.stderr)
        return 2
    with make_client(args) as client:
        stream = client.stylize_stream(
            args.content,
            args.style,
            model=args.model,
            content_weight=args.content_weight,
            style_weight=args.style_weight,
            tv_weight=args.tv_weight,
            style_layers=dict(args.style_layer or ()),
            content_layers=args.content_layer or (),
            steps=args.steps,
            optimizer=args.optimizer.upper(),
            learning_rate=args.lr,
            init=args.init.upper(),
            preserve_color=args.preserve_color,
            coarse_to_fine=args.coarse_to_fine,
            max_side=args.max_side,
            seed=args.seed,
            preview_every=args.preview_every,
        )
        result = _run_job(stream, args, "stylize")
    path = save(result.image, args.output)
    losses = f"; content {result.content_loss:.4g}, style {result.style_loss:.4g}, tv {result.tv_loss:.4g}"
    done = f"wrote {path} ({result.image.width}x{result.image.height}) in {result.elapsed_ms / 1000:.2f} s"
    print(done + (losses if result.loss_history else ""))
    return 0


def _job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-side", type=int, default=0, help="longest side the work is done at (0 = model default)")
    p.add_argument("--seed", type=int, help="random seed (same seed, same image)")
    p.add_argument("--preview-every", type=int, default=0, help="ask for a preview image every N steps")
    p.add_argument("--preview-dir", help="write the previews here")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def add_commands(command: Command) -> None:
    p = command("dream", "DeepDream an image, with a progress bar")
    p.add_argument("image")
    p.add_argument("-o", "--output", default="dream.png")
    p.add_argument("--model", default="")
    p.add_argument(
        "--layer",
        action="append",
        type=key_value,
        metavar="NAME=WEIGHT",
        help="layer weight (repeatable; default: the model's set)",
    )
    p.add_argument("--octaves", type=int, default=0)
    p.add_argument("--octave-scale", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=0, help="steps per octave")
    p.add_argument("--step-size", type=float, default=0.0)
    p.add_argument("--max-loss", type=float)
    p.add_argument("--jitter", type=int, default=None, help="largest random shift per step, px (0 = off)")
    _job_options(p)
    p.set_defaults(run=cmd_dream)

    p = command("stylize", "neural style transfer, with a progress bar (or a style network: --model)")
    p.add_argument("content")
    p.add_argument("style", nargs="?", help="the style image (none with a STYLE_NETWORK --model)")
    p.add_argument("-o", "--output", default="stylized.png")
    p.add_argument("--model", default="")
    p.add_argument("--content-weight", type=float)
    p.add_argument("--style-weight", type=float)
    p.add_argument("--tv-weight", type=float)
    p.add_argument("--style-layer", action="append", type=key_value, metavar="NAME=WEIGHT")
    p.add_argument("--content-layer", action="append", metavar="NAME")
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--init", choices=["content", "noise", "style"], default="content")
    p.add_argument("--preserve-color", action="store_true")
    p.add_argument("--coarse-to-fine", action="store_true")
    _job_options(p)
    p.set_defaults(run=cmd_stylize)

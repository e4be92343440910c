"""``oneiros``: the command line for an Oneiros server.

    oneiros serve --port 50051                       # run the server (needs the server package)
    oneiros models                                   # what the repository holds
    oneiros decode --grid 0 1 --steps 15 -o grid.png # Chollet's latent-space grid
    oneiros edit digit.png --sweep thickness --strengths -2,-1,0,1,2 -o sweep.png
    oneiros sample "In the beginning" -t 0.2 -t 0.5 -t 1.0 -t 1.2
    oneiros dream photo.jpg -o dream.png
    oneiros stylize content.jpg style.jpg -o styled.png

The server address comes from ``-a/--target`` or ``ONEIROS_TARGET`` (default localhost:50051).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from PIL import Image as PILImage

from . import images
from ._channel import DEFAULT_TARGET
from .client import Client
from .errors import OneirosError
from .types import Grid

# Options whose values may start with "-" (negative numbers in lists); see _join_negative_values.
_VALUE_OPTIONS = ("--strengths", "--z", "--direction", "--target-latent")


def _join_negative_values(argv: list[str]) -> list[str]:
    """Turn ``--strengths -2,-1,0`` into ``--strengths=-2,-1,0`` so argparse accepts it."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in _VALUE_OPTIONS and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(",", " ").split()]


def _vector_or_file(text: str) -> np.ndarray:
    """A latent from a ``.npy``/text file, or inline ``"0.5,-1.2,..."``; (D,) or (N, D)."""
    path = Path(text)
    if path.is_file():
        if path.suffix == ".npy":
            return np.load(path).astype(np.float32)
        rows = [_floats(line) for line in path.read_text().splitlines() if line.strip()]
        return np.asarray(rows[0] if len(rows) == 1 else rows, dtype=np.float32)
    return np.asarray(_floats(text), dtype=np.float32)


def _key_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number (in {text!r})") from None


def _save(image: PILImage.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg") and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.save(path)
    return path


def _write_images(args: argparse.Namespace, imgs: list[PILImage.Image], latents: np.ndarray, cols: int | None) -> None:
    """One image -> OUTPUT; several -> a grid PNG at OUTPUT (and each image with --each)."""
    out = Path(args.output)
    if len(imgs) == 1:
        img = imgs[0]
        if args.scale != 1:
            img = img.resize((img.width * args.scale, img.height * args.scale), PILImage.Resampling.NEAREST)
        print(f"wrote {_save(img, out)}")
    elif imgs:
        grid = images.make_grid(imgs, cols, scale=args.scale)
        print(f"wrote {_save(grid, out)} ({len(imgs)} images, {grid.width}x{grid.height})")
    if args.each and len(imgs) > 1:
        for i, img in enumerate(imgs):
            _save(img, out.with_name(f"{out.stem}-{i:03d}{out.suffix}"))
        print(f"wrote {len(imgs)} images {out.stem}-000{out.suffix} ...")
    if args.save_latents:
        np.save(args.save_latents, latents)
        print(f"wrote {args.save_latents} {tuple(latents.shape)}")


def _client(args: argparse.Namespace) -> Client:
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


# ---------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace, extra: list[str]) -> int:
    import importlib.util
    import subprocess

    try:
        found = importlib.util.find_spec("server.__main__") is not None
    except ImportError:
        found = False
    if not found:
        print(
            "oneiros: error: the Oneiros server is not installed here; install the `oneiros` "
            "distribution (pip install -e . in the repository) or run the container image",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call([sys.executable, "-m", "server", *extra])
    except KeyboardInterrupt:
        return 130


def cmd_health(args: argparse.Namespace) -> int:
    with _client(args) as client:
        status = client.health(args.service)
    print(status)
    return 0 if status == "SERVING" else 1


def cmd_models(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.name:
            infos = [client.model(args.name, args.version)]
        else:
            infos = client.models(args.kind or 0)
    if args.json:
        print(json.dumps([dataclasses.asdict(m) for m in infos], indent=2))
        return 0
    if args.name:
        for key, value in dataclasses.asdict(infos[0]).items():
            if value not in ("", 0, (), [], {}, None):
                shown = json.dumps(value) if isinstance(value, (dict, list, tuple)) else value
                print(f"{key:>18}: {shown}")
        return 0
    rows = [("NAME", "VERSION", "KIND", "STATUS", "RUNTIME", "DEVICE", "DEFAULT FOR")]
    for m in infos:
        status = m.status if m.ready else f"{m.status} ({m.status_reason})"
        rows.append((m.name, m.version, m.kind, status, m.runtime, m.device, ",".join(m.default_for)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    latents = None
    if args.latent or args.z:
        parts = [_vector_or_file(args.latent)] if args.latent else []
        parts += [np.asarray(_floats(z), dtype=np.float32) for z in args.z or ()]
        latents = np.concatenate([np.atleast_2d(p) for p in parts])
    grid = Grid(args.grid[0], args.grid[1], args.steps, args.extent) if args.grid else None
    if latents is None and grid is None and not args.count:
        args.count = 1
    with _client(args) as client:
        result = client.decode(latents, count=args.count, seed=args.seed, grid=grid, model=args.model)
    cols = args.cols or (args.steps if grid else None)
    _write_images(args, result.images, result.latents, cols)
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    if (args.image is None) == (args.latent is None):
        raise ValueError("give exactly one source: an IMAGE or --latent")
    if args.sweep and args.direction:
        raise ValueError("give at most one of --sweep and --direction")
    target_image = args.target_image
    target_latent = _vector_or_file(args.target_latent) if args.target_latent else None
    with _client(args) as client:
        result = client.edit_latent(
            args.image,
            latent=_vector_or_file(args.latent) if args.latent else None,
            edits=args.edit or None,
            direction=_vector_or_file(args.direction) if args.direction else None,
            sweep_attribute=args.sweep,
            strengths=_floats(args.strengths) if args.strengths else (),
            target_image=target_image,
            target_latent=target_latent,
            interpolation_steps=args.steps,
            interpolation="SLERP" if args.slerp else "LERP",
            model=args.model,
        )
    _write_images(args, result.images, result.latents, args.cols or len(result.images))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    temperatures: list[float | None] = list(args.temperature or [None])
    runs: list[tuple[float | None, str, float, int, str]] = []
    out = sys.stdout
    with _client(args) as client:
        for t in temperatures:
            label = "model default" if t is None else f"{t:g}"
            out.write(f"=== temperature {label} ===\n{args.prompt}")
            out.flush()
            texts: dict[int, list[str]] = {}
            stats = (0.0, 0, "")
            stream = client.sample_stream(
                args.prompt, model=args.model, max_tokens=args.max_tokens, temperature=t, top_k=args.top_k,
                top_p=args.top_p, seed=args.seed, stop=args.stop or (), n=1,
            )  # fmt: skip
            try:
                for chunk in stream:
                    texts.setdefault(chunk.index, []).append(chunk.text)
                    out.write(chunk.text)
                    out.flush()
                    if chunk.finish_reason:
                        stats = (chunk.mean_entropy_bits, chunk.token_count, chunk.finish_reason)
            finally:
                stream.close()
            entropy, tokens, reason = stats
            out.write(f"\n[mean entropy {entropy:.3f} bits/char, {tokens} chars, {reason or 'unfinished'}]\n\n")
            runs.append((t, "".join(texts.get(0, [])), entropy, tokens, reason))
    if len(runs) > 1:
        if args.markdown:
            print("| temperature | mean entropy (bits) | text |\n|---|---|---|")
            for t, text, entropy, _, _ in runs:
                cell = (args.prompt + text).replace("|", "\\|").replace("\n", " ")
                print(f"| {'default' if t is None else f'{t:g}'} | {entropy:.3f} | {cell} |")
        else:
            print(f"{'temperature':>11}  {'entropy (bits)':>14}  {'chars':>5}  finish")
            for t, _, entropy, tokens, reason in runs:
                print(f"{'default' if t is None else f'{t:g}':>11}  {entropy:>14.3f}  {tokens:>5}  {reason}")
    return 0


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
                _save(event.preview, preview_dir / f"{what}-{event.step:05d}.png")
    finally:
        stream.close()
        bar.close()
    if result is None:
        raise OneirosError(grpc.StatusCode.UNKNOWN, "the stream ended without a result")
    return result


def cmd_dream(args: argparse.Namespace) -> int:
    with _client(args) as client:
        stream = client.dream_stream(
            args.image, model=args.model, layer_weights=dict(args.layer or ()), octaves=args.octaves,
            octave_scale=args.octave_scale, steps_per_octave=args.steps, step_size=args.step_size,
            max_loss=args.max_loss, jitter=args.jitter, seed=args.seed, max_side=args.max_side,
            preview_every=args.preview_every,
        )  # fmt: skip
        result = _run_job(stream, args, "dream")
    path = _save(result.image, args.output)
    final = f", final loss {result.loss_history[-1]:.4g}" if result.loss_history else ""
    print(f"wrote {path} ({result.image.width}x{result.image.height}) in {result.elapsed_ms / 1000:.1f} s{final}")
    return 0


def cmd_stylize(args: argparse.Namespace) -> int:
    with _client(args) as client:
        stream = client.stylize_stream(
            args.content, args.style, model=args.model, content_weight=args.content_weight,
            style_weight=args.style_weight, tv_weight=args.tv_weight, style_layers=dict(args.style_layer or ()),
            content_layers=args.content_layer or (), steps=args.steps, optimizer=args.optimizer.upper(),
            learning_rate=args.lr, init=args.init.upper(), preserve_color=args.preserve_color,
            coarse_to_fine=args.coarse_to_fine, max_side=args.max_side, seed=args.seed,
            preview_every=args.preview_every,
        )  # fmt: skip
        result = _run_job(stream, args, "stylize")
    path = _save(result.image, args.output)
    print(
        f"wrote {path} ({result.image.width}x{result.image.height}) in {result.elapsed_ms / 1000:.1f} s; "
        f"content {result.content_loss:.4g}, style {result.style_loss:.4g}, tv {result.tv_loss:.4g}"
    )
    return 0


# ---------------------------------------------------------------- parser


def _connection_options(p: argparse.ArgumentParser, defaults: bool, target_flag: bool = True) -> None:
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    g = p.add_argument_group("connection")
    flags = ("-a", "--target", "--address") if target_flag else ("-a", "--address")
    g.add_argument(*flags, dest="target", default=d(os.environ.get("ONEIROS_TARGET", DEFAULT_TARGET)),
                   help="server address host:port or dns:///host:port (env ONEIROS_TARGET; default %(default)s)")
    g.add_argument("--timeout", type=float, default=d(None), help="deadline per call in seconds")
    g.add_argument("--token", default=d(os.environ.get("ONEIROS_TOKEN")), help="bearer token (env ONEIROS_TOKEN)")
    g.add_argument("--tls", action="store_true", default=d(False), help="use TLS")
    g.add_argument("--ca", default=d(None), help="CA certificate (PEM) for TLS")
    g.add_argument("--cert", default=d(None), help="client certificate (PEM) for mutual TLS")
    g.add_argument("--key", default=d(None), help="client key (PEM) for mutual TLS")
    g.add_argument("--server-name", default=d(None), help="expected name in the server certificate")
    g.add_argument("--retries", type=int, default=d(3), help="retries on UNAVAILABLE/RESOURCE_EXHAUSTED")


def _output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("-o", "--output", default=default, help="PNG to write (a grid when several images)")
    p.add_argument("--each", action="store_true", help="also write each image as OUTPUT-NNN.png")
    p.add_argument("--scale", type=int, default=1, help="enlarge images by this factor (nearest)")
    p.add_argument("--cols", type=int, default=0, help="grid columns (default: automatic)")
    p.add_argument("--save-latents", metavar="FILE.npy", help="save the decoded latents")


def _job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-side", type=int, default=0, help="longest side the work is done at (0 = model default)")
    p.add_argument("--seed", type=int, help="random seed (same seed, same image)")
    p.add_argument("--preview-every", type=int, default=0, help="ask for a preview image every N steps")
    p.add_argument("--preview-dir", help="write the previews here")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oneiros", description="Command line for an Oneiros server.")
    _connection_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _connection_options(p, defaults=False, target_flag=name != "edit")  # edit's --target is an image
        return p

    sub.add_parser("serve", help="run the server (python -m server ARGS...)", add_help=False)

    p = command("health", "print the server's grpc.health.v1 status (exit 1 unless SERVING)")
    p.add_argument("service", nargs="?", default="", help="service name (default: the whole server)")

    p = command("models", "list the models, or show one")
    p.add_argument("name", nargs="?", help="show this model in detail")
    p.add_argument("--version", default="", help="model version (default: newest)")
    p.add_argument("--kind", choices=["VAE", "GAN", "LANGUAGE_MODEL", "CONVNET"], help="only this kind")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("decode", "latent points to images: prior samples, a 2-D grid, or given latents")
    p.add_argument("--model", default="", help="model name (default: the repository's Decode default)")
    p.add_argument("--count", type=int, default=0, help="sample this many points from the prior")
    p.add_argument("--seed", type=int, help="seed for --count (same seed, same images)")
    p.add_argument("--grid", type=int, nargs=2, metavar=("AXIS_X", "AXIS_Y"), help="a grid over two latent axes")
    p.add_argument("--steps", type=int, default=15, help="grid points per side")
    p.add_argument("--extent", type=float, default=0.0, help="grid covers [-extent, extent] (0 = 2.0)")
    p.add_argument("--latent", help="decode the latents in this .npy or text file (one per line)")
    p.add_argument("--z", action="append", help='decode this latent, "v1,v2,..." (repeatable)')
    _output_options(p, "decode.png")

    p = command("edit", "encode an image (or take a latent), move it in latent space, decode")
    p.add_argument("image", nargs="?", help="source image (PNG/JPEG/WebP)")
    p.add_argument("--latent", help='source latent: .npy/text file or "v1,v2,..."')
    p.add_argument("--model", default="", help="model name (default: the repository's EditLatent default)")
    p.add_argument("--edit", action="append", type=_key_value, metavar="ATTR=STRENGTH",
                   help="apply an attribute vector, e.g. thickness=1.5 (repeatable; applied together)")
    p.add_argument("--sweep", metavar="ATTR", help="sweep along this attribute over --strengths")
    p.add_argument("--direction", help='sweep along a raw direction: file or "v1,v2,..."')
    p.add_argument("--strengths", help="comma-separated strengths, e.g. -2,-1,0,1,2")
    p.add_argument("--target", dest="target_image", metavar="IMG", help="interpolate towards this image")
    p.add_argument("--target-latent", help="interpolate towards this latent")
    p.add_argument("--steps", type=int, default=0, help="interpolation points, both ends included (0 = 8)")
    p.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    _output_options(p, "edit.png")

    p = command("sample", "generate text; several -t run the chapter's temperature experiment")
    p.add_argument("prompt")
    p.add_argument("-t", "--temperature", type=float, action="append", help="softmax temperature (repeatable)")
    p.add_argument("--model", default="")
    p.add_argument("--max-tokens", type=int, default=0, help="characters to generate (0 = model default)")
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--stop", action="append", help="stop sequence (repeatable)")
    p.add_argument("--markdown", action="store_true", help="end with a Markdown table of the runs")

    p = command("dream", "DeepDream an image, with a progress bar")
    p.add_argument("image")
    p.add_argument("-o", "--output", default="dream.png")
    p.add_argument("--model", default="")
    p.add_argument("--layer", action="append", type=_key_value, metavar="NAME=WEIGHT",
                   help="layer weight (repeatable; default: the model's set)")
    p.add_argument("--octaves", type=int, default=0)
    p.add_argument("--octave-scale", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=0, help="steps per octave")
    p.add_argument("--step-size", type=float, default=0.0)
    p.add_argument("--max-loss", type=float)
    p.add_argument("--jitter", type=int, default=0)
    _job_options(p)

    p = command("stylize", "neural style transfer, with a progress bar")
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("-o", "--output", default="stylized.png")
    p.add_argument("--model", default="")
    p.add_argument("--content-weight", type=float)
    p.add_argument("--style-weight", type=float)
    p.add_argument("--tv-weight", type=float)
    p.add_argument("--style-layer", action="append", type=_key_value, metavar="NAME=WEIGHT")
    p.add_argument("--content-layer", action="append", metavar="NAME")
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--init", choices=["content", "noise", "style"], default="content")
    p.add_argument("--preserve-color", action="store_true")
    p.add_argument("--coarse-to-fine", action="store_true")
    _job_options(p)
    return parser


_COMMANDS = {
    "health": cmd_health,
    "models": cmd_models,
    "decode": cmd_decode,
    "edit": cmd_edit,
    "sample": cmd_sample,
    "dream": cmd_dream,
    "stylize": cmd_stylize,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 on success)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if args.command == "serve":
        return cmd_serve(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return _COMMANDS[args.command](args)
    except OneirosError as e:
        print(f"oneiros: error: {e.code.name}: {e.message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        print(f"oneiros: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

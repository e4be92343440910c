"""``oneiros-export``: bring your own model to Oneiros.

    oneiros-export keras decoder.keras --as decoder --encoder encoder.keras --name my-vae
    oneiros-export torch mymodels:make_generator --as generator --latent-size 100
    oneiros-export check models/my-vae/1
    oneiros-export schema -o model.schema.json

A refused model gets one line on stderr naming the problem, exit status 1, and nothing written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oneiros_export.byo import Refused


def _pixel_range(value: str) -> tuple[float, float]:
    low, _, high = value.partition(",")
    try:
        return float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError("give LOW,HIGH, e.g. 0,1 or -1,1") from None


def _import_options(parser: argparse.ArgumentParser, origin: str) -> None:
    what = "a .keras file (model.save)" if origin == "keras" else "MODULE:FACTORY returning a torch.nn.Module"
    parser.add_argument("source", help=what)
    parser.add_argument(
        "--as", dest="role", required=True, choices=("decoder", "generator", "char-lm", "transformer-lm")
    )
    parser.add_argument("--encoder", help=f"the VAE's encoder, {what} (EditLatent then takes images)")
    parser.add_argument("--repository", default="models", help="model repository folder (default: models)")
    parser.add_argument("--name", help="model name (default: from the source)")
    parser.add_argument("--version", help="version folder (default: the next integer)")
    parser.add_argument("--description", default="", help="shown by ListModels")
    parser.add_argument("--vocabulary", help="char-lm: a file holding the characters in token-id order, or the string")
    parser.add_argument("--sequence-length", type=int, help="char-lm: the window the model reads (its training length)")
    parser.add_argument("--latent-size", type=int, help="decoder/generator: when the model does not say it")
    parser.add_argument(
        "--pixel-range", type=_pixel_range, help="LOW,HIGH pixel values, when a sigmoid/tanh is not visible"
    )
    parser.add_argument("--attributes", help="labels.csv: image,<attribute>,... rows of 1/0, for attribute vectors")
    parser.add_argument(
        "--import", dest="imports", action="append", default=[], help="module to import first (custom layers)"
    )
    parser.set_defaults(origin=origin)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="oneiros-export", description="Bring your own model to Oneiros.")
    commands = root.add_subparsers(dest="command", required=True)
    _import_options(commands.add_parser("keras", help="import a Keras 3 model (.keras file)"), "keras")
    _import_options(commands.add_parser("torch", help="import a torch module from MODULE:FACTORY"), "torch")
    check = commands.add_parser("check", help="check a model version folder as the server will")
    check.add_argument("folder", type=Path, help="models/<name>/<version>")
    schema = commands.add_parser("schema", help="write the JSON Schema of model.json")
    schema.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    if args.command == "schema":
        from oneiros_server.repository.schema import schema_text

        if args.output:
            args.output.write_text(schema_text())
        else:
            sys.stdout.write(schema_text())
        return 0
    if args.command == "check":
        from oneiros_export.check import check_model

        problems = check_model(args.folder)
        for problem in problems:
            print(f"{args.folder}: {problem}", file=sys.stderr)
        if not problems:
            print(f"{args.folder}: ok")
        return 1 if problems else 0
    from oneiros_export.byo.command import import_model

    try:
        folder = import_model(args, argv)
    except Refused as exc:
        print(f"oneiros-export: refused: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line shared by the latent-model exporters (``oneiros_export.vae``, ``oneiros_export.gan``)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from oneiros_export.defaults import warn_second_default
from oneiros_server.repository.manifest import Manifest


def parser(doc: str | None, checkpoint_help: str) -> argparse.ArgumentParser:
    """The options every latent exporter takes; exporters add their own."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True, help=checkpoint_help)
    p.add_argument(
        "--classifier", type=Path, required=True, help="classifier.pt from python -m oneiros_training.classifier"
    )
    p.add_argument("--name", required=True)
    p.add_argument("--version", default="1")
    p.add_argument("--repository", type=Path, default=Path("models"))
    p.add_argument("--default-for", action="append", default=[], choices=["Decode", "EditLatent"])
    p.add_argument("--exporter", default="dynamo", choices=["dynamo", "torchscript"])
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    return p


def parse(p: argparse.ArgumentParser, module: str, argv: list[str] | None) -> tuple[argparse.Namespace, str]:
    """Parsed options (torch threads applied) and the command line to record in model.json."""
    args = p.parse_args(argv)
    rpcs = ", ".join(f"--default-for {rpc}" for rpc in args.default_for)
    warn_second_default(args.repository, args.name, args.default_for, f"leave out {rpcs}, or unmark the other")
    if args.threads:
        torch.set_num_threads(args.threads)
    command = f"python -m {module} " + shlex.join(argv if argv is not None else sys.argv[1:])
    return args, command


def version_dir(args: argparse.Namespace) -> Path:
    return args.repository / args.name / args.version


def print_metrics(manifest: Manifest) -> None:
    width = max(map(len, manifest.metrics), default=0) + 2
    for key, value in manifest.metrics.items():
        print(f"{key:{width}s} {value:.4f}")

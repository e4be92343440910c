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
import os
import sys
from collections.abc import Sequence

from .._channel import DEFAULT_TARGET
from ..errors import OneirosError
from . import images, latent, models, sample

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


def _connection_options(p: argparse.ArgumentParser, defaults: bool, target_flag: bool = True) -> None:
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    g = p.add_argument_group("connection")
    flags = ("-a", "--target", "--address") if target_flag else ("-a", "--address")
    target = os.environ.get("ONEIROS_TARGET", DEFAULT_TARGET)
    shown = target.replace("%", "%%")  # spelled out: subcommands suppress defaults, so no %(default)s
    g.add_argument(
        *flags,
        dest="target",
        default=d(target),
        help=f"server address host:port or dns:///host:port (env ONEIROS_TARGET; default {shown})",
    )
    g.add_argument("--timeout", type=float, default=d(None), help="deadline per call in seconds")
    g.add_argument("--token", default=d(os.environ.get("ONEIROS_TOKEN")), help="bearer token (env ONEIROS_TOKEN)")
    g.add_argument("--tls", action="store_true", default=d(False), help="use TLS")
    g.add_argument("--ca", default=d(None), help="CA certificate (PEM) for TLS")
    g.add_argument("--cert", default=d(None), help="client certificate (PEM) for mutual TLS")
    g.add_argument("--key", default=d(None), help="client key (PEM) for mutual TLS")
    g.add_argument("--server-name", default=d(None), help="expected name in the server certificate")
    g.add_argument("--retries", type=int, default=d(3), help="retries on UNAVAILABLE/RESOURCE_EXHAUSTED")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oneiros", description="Command line for an Oneiros server.")
    _connection_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _connection_options(p, defaults=False, target_flag=name != "edit")  # edit's --target is an image
        return p

    sub.add_parser("serve", help="run the server (oneiros-server ARGS...)", add_help=False)
    for family in (models, latent, sample, images):
        family.add_commands(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 on success)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if args.command == "serve":
        return models.cmd_serve(args, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.run(args)
    except OneirosError as e:
        print(f"oneiros: error: {e.code.name}: {e.message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        print(f"oneiros: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

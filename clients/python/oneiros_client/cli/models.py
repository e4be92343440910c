"""``oneiros serve``, ``health`` and ``models``: the server and its model repository."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from ._common import Command, make_client


def find_server() -> str | None:
    """``oneiros-server`` beside this interpreter (its venv's bin/, also when not activated), else on PATH."""
    import shutil
    from pathlib import Path

    here = shutil.which("oneiros-server", path=str(Path(sys.executable).parent))
    return here or shutil.which("oneiros-server")


def cmd_serve(args: argparse.Namespace, extra: list[str]) -> int:
    import subprocess

    server = find_server()
    if server is None:
        print(
            "oneiros: error: the Oneiros server is not installed here; `pip install oneiros` "
            "provides `oneiros-server`, or run the container image",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call([server, *extra])
    except KeyboardInterrupt:
        return 130


def cmd_health(args: argparse.Namespace) -> int:
    with make_client(args) as client:
        status = client.health(args.service)
    print(status)
    return 0 if status == "SERVING" else 1


def cmd_models(args: argparse.Namespace) -> int:
    with make_client(args) as client:
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


def add_commands(command: Command) -> None:
    p = command("health", "print the server's grpc.health.v1 status (exit 1 unless SERVING)")
    p.add_argument("service", nargs="?", default="", help="service name (default: the whole server)")
    p.set_defaults(run=cmd_health)

    p = command("models", "list the models, or show one")
    p.add_argument("name", nargs="?", help="show this model in detail")
    p.add_argument("--version", default="", help="model version (default: newest)")
    p.add_argument("--kind", choices=["VAE", "GAN", "LANGUAGE_MODEL", "CONVNET"], help="only this kind")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_models)

"""A warning when an export would give an RPC a second default model in its repository.

The server takes one default per RPC; with two marked, the request's answer depends on which
the loader lists first, so the exporter says so while the user can still choose.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path


def other_defaults(repository: Path, name: str, rpcs: Iterable[str]) -> dict[str, list[str]]:
    """RPC -> the other models of ``repository`` already marked its default (other versions of ``name`` aside)."""
    wanted, found = set(rpcs), {}
    for path in sorted(Path(repository).glob("*/*/model.json")):
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        other = manifest.get("name") or path.parent.parent.name
        if other == name:
            continue
        for rpc in sorted(wanted & set(manifest.get("default_for") or [])):
            if other not in found.setdefault(rpc, []):
                found[rpc].append(other)
    return found


def warn_second_default(repository: Path, name: str, rpcs: Iterable[str], how_to_avoid: str) -> bool:
    """Print one warning per RPC that ``name`` would become a second default for; True when any was."""
    clashes = other_defaults(repository, name, rpcs)
    for rpc, others in clashes.items():
        print(
            f"warning: {', '.join(others)} is already the default for {rpc} in {repository}; exporting {name} "
            f"as one too makes two, and the server answers {rpc} with whichever it lists first ({how_to_avoid})",
            file=sys.stderr,
        )
    return bool(clashes)

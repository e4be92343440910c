"""What is on disk: version folders and a cheap fingerprint of each.

A poll compares fingerprints (``model.json``'s bytes and every file's size and mtime), so an
unchanged model is never reloaded or re-hashed; a changed one has its files checked against the
sha256s in its ``model.json`` (``repository.verify``) before anything loads it. A folder still
being copied fails that check and is tried again at the next poll.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_VERSION = re.compile(r"^[0-9A-Za-z._-]+$")


@dataclass(frozen=True)
class Found:
    """One ``<root>/<name>/<version>/`` folder holding a ``model.json``."""

    name: str
    version: str
    path: Path
    fingerprint: str


def version_key(version: str) -> tuple:
    """Sorts "2" after "1" and "10" after "9"; non-numeric parts after numeric ones."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


def fingerprint(version_dir: Path) -> str:
    """Changes when ``model.json`` or any file in the folder changes (size, mtime, name)."""
    digest = hashlib.sha256()
    try:
        digest.update((version_dir / "model.json").read_bytes())
        for path in sorted(p for p in version_dir.rglob("*") if p.is_file()):
            stat = path.stat()
            digest.update(f"{path.relative_to(version_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    except OSError:  # removed or renamed while we looked: the next poll sees it settled
        return ""
    return digest.hexdigest()


def scan(root: Path, only: str = "") -> dict[tuple[str, str], Found]:
    """Every version folder under ``root`` (or of model ``only``), keyed by (name, version)."""
    found: dict[tuple[str, str], Found] = {}
    if not root.is_dir():
        return found
    pattern = f"{only}/*/model.json" if only else "*/*/model.json"
    for manifest in sorted(root.glob(pattern)):
        version_dir = manifest.parent
        name, version = version_dir.parent.name, version_dir.name
        if _NAME.match(name) and _VERSION.match(version):
            found[(name, version)] = Found(name, version, version_dir, fingerprint(version_dir))
    return found

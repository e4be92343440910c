"""A new version folder, written whole or not at all: files go to a hidden folder in the
repository, are checked as the server would check them, and only then renamed into place."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from oneiros_export.byo import Refused


def next_version(root: Path, name: str) -> str:
    """One more than the highest integer version of ``name`` (1 for a new model)."""
    folder = root / name
    numbers = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    return str(max(numbers, default=0) + 1)


def model_name(value: str | None, default: str) -> str:
    """``--name``, or the source's name made into a model name (lower case, digits, . _ -)."""
    name = value or re.sub(r"[^a-z0-9._-]+", "-", default.lower()).strip("-._") or "model"
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise Refused(
            f"--name {name!r}: use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    return name


def write_version(root: Path, name: str, version: str, build: Callable[[Path], None]) -> Path:
    """Run ``build(folder)`` in a scratch folder, then move it to ``root/name/version``.

    On any failure the scratch folder is removed: nothing is left in the repository.
    """
    final = root / name / version
    if final.exists():
        raise Refused(f"{final} already exists; give another --version")
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".oneiros-import-", dir=root))  # */model.json: never scanned
    scratch.chmod(0o755)  # mkdtemp's 0o700 would hide the model from a server run by another user
    try:
        build(scratch)
        final.parent.mkdir(exist_ok=True)
        scratch.rename(final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return final

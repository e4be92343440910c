"""Engines by model kind: the one place that says which code serves a ``model.json``'s ``kind``.

A kind is registered with its factory (``"module:function"``, imported when the first
model of that kind loads, so torch loads only when a torch model is in the repository;
or the function itself) and the RPC families its engines serve::

    registry = default_registry()
    registry.register("MY_DECODER", "my_package.engine:load", families=("Decode",))
    OneirosServer(settings, registry=registry)

The repository asks the registry to load each model; it never imports an engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oneiros_server.engines.base import EngineSet

Factory = Callable[[Any, Path, Any], EngineSet]  # (Manifest, version folder, Settings) -> EngineSet


@dataclass(frozen=True)
class Kind:
    """One registered kind: its factory (or ``"module:function"``, imported on first use) and its families."""

    name: str
    factory: str | Factory
    families: tuple[str, ...]


class Registry:
    """Kinds of model and the factories that load them (see the module docstring)."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def register(self, kind: str, factory: str | Factory, families: tuple[str, ...]) -> None:
        """Serve models of ``kind`` with ``factory``; its engines answer ``families``."""
        self._kinds[kind] = Kind(kind, factory, tuple(families))

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def families(self, kind: str) -> tuple[str, ...]:
        """The RPC families a model of ``kind`` serves (none for an unknown kind)."""
        entry = self._kinds.get(kind)
        return entry.families if entry is not None else ()

    def load(self, manifest: Any, version_dir: Path, settings: Any) -> EngineSet:
        """Build the engines of one model (``manifest.kind`` must be registered)."""
        entry = self._kinds.get(manifest.kind)
        if entry is None:
            raise ValueError(f"no engine is registered for kind {manifest.kind!r}; known: {self.kinds()}")
        factory = entry.factory
        if isinstance(factory, str):
            module_name, name = factory.split(":")
            factory = getattr(importlib.import_module(module_name), name)
        return factory(manifest, version_dir, settings)


def default_registry() -> Registry:
    """A registry with the kinds Oneiros ships."""
    registry = Registry()
    registry.register("VAE", "oneiros_server.engines.latent.engine:load", ("Decode", "EditLatent"))
    registry.register("GAN", "oneiros_server.engines.latent.engine:load", ("Decode", "EditLatent"))
    registry.register("LANGUAGE_MODEL", "oneiros_server.engines.language_model.engine:load", ("Sample",))
    registry.register("CONVNET", "oneiros_server.engines.convnet.engine:load", ("Dream", "Stylize"))
    registry.register("STYLE_NETWORK", "oneiros_server.engines.style_network.engine:load", ("Stylize",))
    return registry

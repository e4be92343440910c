"""Engines: one per model family, plain Python/numpy/torch in, plain types out.

To add a model family: write ``server/oneiros_server/engines/<family>.py`` with a ``load``
factory (see ``base.EngineFactory``), list its kind below, and give its RPCs a
handler module in ``server/oneiros_server/transport/``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from oneiros_server.engines.base import Engine, EngineInfo

if TYPE_CHECKING:  # oneiros_server.repository's loader imports this package: keep it one-way at run time
    from oneiros_server.repository.manifest import Manifest
    from oneiros_server.settings import Settings

# kind -> ("module:factory", RPC families it serves). Imported lazily: torch loads
# only when a torch model is in the repository.
ENGINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "VAE": ("oneiros_server.engines.latent.engine:load", ("Decode", "EditLatent")),
    "GAN": ("oneiros_server.engines.latent.engine:load", ("Decode", "EditLatent")),
    "LANGUAGE_MODEL": ("oneiros_server.engines.language_model.engine:load", ("Sample",)),
    "CONVNET": ("oneiros_server.engines.convnet.engine:load", ("Dream", "Stylize")),
    "STYLE_NETWORK": ("oneiros_server.engines.style_network.engine:load", ("Stylize",)),
}


def families_of(kind: str) -> tuple[str, ...]:
    return ENGINES[kind][1]


def load_engine(manifest: Manifest, version_dir: Path, settings: Settings) -> Engine:
    target, _ = ENGINES[manifest.kind]
    module_name, factory = target.split(":")
    return getattr(importlib.import_module(module_name), factory)(manifest, version_dir, settings)


__all__ = ["ENGINES", "Engine", "EngineInfo", "families_of", "load_engine"]

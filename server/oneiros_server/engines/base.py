"""What every engine offers the rest of the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # importing oneiros_server.repository here would be circular (its loader imports engines)
    from oneiros_server.repository.manifest import Manifest
    from oneiros_server.settings import Settings


@dataclass
class EngineInfo:
    """Kind-specific metadata shown by ListModels/GetModel."""

    device: str = "cpu"
    vocabulary: str = ""
    latent_size: int = 0
    image_shape: tuple[int, ...] = ()  # (height, width, channels)
    attributes: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    precision: str = ""  # CONVNET: "fp32" or "bf16" (the backbone's), empty elsewhere


class Engine(Protocol):
    """An engine serves one model; built by ``load(manifest, version_dir, settings)``."""

    info: EngineInfo

    def warmup(self) -> None:
        """Run once on dummy input so the first request pays no start-up cost."""

    def close(self) -> None:
        """Stop background threads and free the runtime."""


class EngineFactory(Protocol):
    def __call__(self, manifest: Manifest, version_dir: Path, settings: Settings) -> Engine: ...

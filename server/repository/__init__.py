"""The model repository: ``<root>/<name>/<version>/model.json`` plus the files it names."""

from server.repository.manifest import FileRef, Manifest, ModelKind, write_manifest
from server.repository.loader import LoadedModel, ModelRepository

__all__ = ["FileRef", "LoadedModel", "Manifest", "ModelKind", "ModelRepository", "write_manifest"]

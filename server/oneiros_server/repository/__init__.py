"""The model repository: ``<root>/<name>/<version>/model.json`` plus the files it names."""

from oneiros_server.repository.loader import LoadedModel, ModelRepository
from oneiros_server.repository.manifest import FileRef, Manifest, ModelKind, write_manifest

__all__ = ["FileRef", "LoadedModel", "Manifest", "ModelKind", "ModelRepository", "write_manifest"]

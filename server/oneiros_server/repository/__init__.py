"""The model repository: ``<root>/<name>/<version>/model.json`` plus the files it names, loaded,
swapped and unloaded while serving (``loader``), followed on disk in poll mode (``watch``)."""

from oneiros_server.repository.loader import Loader, ModelRepository
from oneiros_server.repository.manifest import FileRef, Manifest, ModelKind, write_manifest
from oneiros_server.repository.versions import ModelVersion
from oneiros_server.repository.watch import RepositoryWatcher

__all__ = [
    "Loader",
    "FileRef",
    "Manifest",
    "ModelKind",
    "ModelRepository",
    "ModelVersion",
    "RepositoryWatcher",
    "write_manifest",
]

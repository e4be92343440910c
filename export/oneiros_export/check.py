"""``oneiros-export check DIR``: everything the server does to a model version before serving it,
offline, with every problem on its own line: ``model.json`` against the schema, each file's
sha256, each ONNX graph's inputs and outputs against the spec (the server loader's own code,
``oneiros_server.repository.verify``), then one smoke run of the engine."""

from __future__ import annotations

from pathlib import Path

from oneiros_server.engines.registry import default_registry
from oneiros_server.repository.verify import file_problems, graph_problems, read_manifest
from oneiros_server.settings import Settings


def smoke_problems(version_dir: Path) -> list[str]:
    """Load the engine as the server would (batching off) and run its warm-up once."""
    manifest, problems = read_manifest(version_dir)
    if manifest is None:
        return problems
    engine = None
    try:
        settings = Settings(model_repository=version_dir.parent, batching=False)
        engine = default_registry().load(manifest, version_dir, settings)
        engine.warmup()
    except Exception as exc:  # noqa: BLE001 - whatever fails is what the server would report
        return [f"smoke run: {exc.__class__.__name__}: {str(exc)[:300]}"]
    finally:
        if engine is not None:
            engine.close()
    return []


def check_model(version_dir: Path, folder_names: bool = True) -> list[str]:
    """Problems found in ``version_dir``, in the order the server meets them; empty = it will load.

    ``folder_names``: also require the folder names to be the manifest's name and version (the
    server takes them from the folders).
    """
    manifest, problems = read_manifest(version_dir)
    if manifest is None:
        return problems
    if not default_registry().families(manifest.kind):
        problems.append(f"kind: no engine is registered for {manifest.kind!r}; known: {default_registry().kinds()}")
    if folder_names:
        for field, value, folder in (
            ("name", manifest.name, version_dir.parent.name),
            ("version", manifest.version, version_dir.name),
        ):
            if value != folder:
                problems.append(f"{field}: {value!r}, but the folder is {folder!r} (the server uses the folder's)")
    problems += file_problems(manifest, version_dir)
    if not problems:
        problems += graph_problems(manifest, version_dir)
    if not problems:
        problems += smoke_problems(version_dir)
    return problems

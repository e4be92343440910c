"""The server's layers import downwards only (docs/architecture.md), read from the source's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "oneiros_server"
WIRE = (
    "grpc",
    "grpc_health",
    "grpc_status",
    "grpc_reflection",
    "starlette",
    "uvicorn",
    "google.protobuf",
    "oneiros.v1",
)


def _imports(folder: str) -> dict[str, set[str]]:
    """Module path -> every module it imports (at any depth, TYPE_CHECKING blocks included)."""
    found = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(PACKAGE))] = names
    return found


def _offenders(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in _imports(folder).items()
        for name in names
        if name.startswith(forbidden) and not name.startswith(allowed)
    ]


@pytest.mark.parametrize("folder", ["dataplane", "engines", "scheduling", "runtime", "repository", "observability"])
def test_nothing_below_the_transports_knows_the_wire(folder):
    assert _offenders(folder, WIRE) == []


def test_the_dataplane_knows_the_engine_protocol_not_an_engine():
    assert (
        _offenders(
            "dataplane", ("oneiros_server.engines", "oneiros_server.transport"), ("oneiros_server.engines.base",)
        )
        == []
    )


def test_the_repository_imports_no_engine_and_the_engines_no_loader():
    assert _offenders("repository", ("oneiros_server.engines", "oneiros_server.dataplane")) == []
    assert _offenders("engines", ("oneiros_server.repository",), ("oneiros_server.repository.manifest",)) == []


def test_runtimes_and_scheduling_know_no_engine_and_each_other_one_way():
    assert _offenders("runtime", ("oneiros_server.scheduling", "oneiros_server.engines")) == []
    assert (
        _offenders("scheduling", ("oneiros_server.engines", "oneiros_server.runtime", "oneiros_server.repository"))
        == []
    )

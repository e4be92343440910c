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


BELOW_THE_TRANSPORTS = ("dataplane", "engines", "scheduling", "runtime", "repository", "observability")
ROOT_MODULES_BELOW = ("errors.py", "settings.py")  # imported by the layers below, so held to their rule
ABOVE = ("oneiros_server.transport", "oneiros_server.app", "oneiros_server.__main__")


def _module_names(source: str, package: str) -> set[str]:
    """Every module ``source`` imports (at any depth, TYPE_CHECKING blocks included), as absolute
    dotted names: relative imports are resolved against ``package``, and ``from a import b``
    counts as importing ``a`` and ``a.b`` (``b`` may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _imports(folder: str) -> dict[str, set[str]]:
    """Module path -> every module it imports; ``folder`` is a subpackage or a module at the root."""
    root = PACKAGE / folder
    found = {}
    for path in sorted(root.rglob("*.py") if root.is_dir() else [root]):
        relative = path.relative_to(PACKAGE)
        package = ".".join(("oneiros_server", *relative.parent.parts))
        found[str(relative)] = _module_names(path.read_text(), package)
    return found


def _offenders(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in _imports(folder).items()
        for name in names
        if _under(name, forbidden) and not _under(name, allowed)
    ]


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    """``name`` is one of ``prefixes`` or a module inside one (``grpc`` covers ``grpc.aio``, not ``grpcio``)."""
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_import_reader_sees_every_form_of_import():
    source = (
        "from . import plane\nfrom ..engines import registry\nfrom oneiros_server import engines\nimport grpc.aio\n"
    )
    names = _module_names(source, "oneiros_server.dataplane")
    assert {"oneiros_server.dataplane.plane", "oneiros_server.engines.registry", "oneiros_server.engines"} <= names
    assert _under("grpc.aio", WIRE) and not _under("grpcio_tools", WIRE)


@pytest.mark.parametrize("folder", BELOW_THE_TRANSPORTS + ROOT_MODULES_BELOW)
def test_nothing_below_the_transports_imports_the_wire_or_a_transport(folder):
    """No grpc, Starlette or protobuf below the transports, not even through a transport module."""
    assert _offenders(folder, WIRE + ABOVE) == []


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

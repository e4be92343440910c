"""The distributions as a new user gets them: built wheels, installed into a fresh venv
(offline, no editable install), and `oneiros-server` serving the bundled defaults from an
empty folder."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from tests.conftest import REPO_ROOT

DISTRIBUTIONS = {"oneiros_proto": "proto", "oneiros_client": "clients/python", "oneiros": "."}
DEFAULT_MODELS = sorted(p.parent.parent.name for p in (REPO_ROOT / "models").glob("*/*/model.json"))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """`make wheels` in a clean copy of the tree (no stale build/ reused), with this interpreter."""
    dist, src = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("src") / "oneiros"
    skip = shutil.ignore_patterns(".*", "build", "dist", "data", "runs", "*.egg-info", "__pycache__", "tests", "bench")
    shutil.copytree(REPO_ROOT, src, symlinks=True, ignore=skip)
    # -o: the venv is this interpreter's, make must not build one.
    subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "wheels", f"PY={sys.executable}", f"DIST={dist}"], check=True, cwd=src
    )
    built = {path.name.split("-")[0]: path for path in dist.iterdir()}
    version = (REPO_ROOT / "VERSION").read_text().strip()
    assert sorted(p.name for p in built.values()) == sorted(
        f"{name}-{version}-py3-none-any.whl" for name in DISTRIBUTIONS
    ), "dist/ must hold our three wheels and nothing else"
    return built


INSTALL_STEP = re.compile(r"pip\"?,?\s*\"?(?:install|wheel)\b(.*)")
SKIPPED_FOLDERS = {"data", "runs", "build", "dist", "node_modules", "__pycache__"}


def _repo_files(names: tuple[str, ...], suffixes: tuple[str, ...]) -> list[Path]:
    """The tree's own files (no .venv, .git, data, runs, build) named ``names`` or ending in ``suffixes``."""
    found = []
    for folder, subfolders, files in os.walk(REPO_ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS]
        found += [Path(folder) / f for f in files if f in names or f.endswith(suffixes)]
    return found


def test_no_install_step_names_a_local_folder_without_dot_slash():
    """`pip install proto` fetches the public package "proto"; `./proto` is the folder."""
    folders = {folder for folder in DISTRIBUTIONS.values() if folder != "."}
    bare = []
    for path in _repo_files(("Makefile", "Dockerfile"), (".md", ".sh", ".yaml", ".yml", ".toml")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in INSTALL_STEP.finditer(line):
                words = {w.strip("'\"`") for w in match.group(1).split()}
                bare += [f"{path.relative_to(REPO_ROOT)}:{number}: {w}" for w in sorted(words & folders)]
    assert not bare, f"install steps naming a folder without ./ (pip reads a package name): {bare}"


def _top_level(wheel: Path) -> set[str]:
    names = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    return {name for name in names if not name.endswith((".dist-info", ".data"))}


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        metadata = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(metadata).decode().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]


def test_every_installed_package_starts_with_oneiros(wheels):
    tops = {name: _top_level(wheel) for name, wheel in wheels.items()}
    assert tops["oneiros_proto"] == {"oneiros"}
    assert tops["oneiros_client"] == {"oneiros_client"}
    assert tops["oneiros"] == {"oneiros_server", "oneiros_training", "oneiros_export"}


def test_one_version_and_a_torch_free_sdk(wheels):
    version = (REPO_ROOT / "VERSION").read_text().strip()
    assert all(f"-{version}-" in wheel.name for wheel in wheels.values())
    sdk = [r.split(";")[0] for r in _requires(wheels["oneiros_client"])]
    assert not any(r.startswith("torch") for r in sdk) and "oneiros-proto" in sdk
    server = _requires(wheels["oneiros"])
    serving = [r for r in server if "extra ==" not in r]
    assert "oneiros-proto" in serving and not any(r.startswith("oneiros-client") for r in serving)
    assert not any(r.startswith(("onnx>", "onnxscript", "tqdm")) for r in serving), "training deps need an extra"
    assert any(r.startswith("onnx>") and 'extra == "train"' in r for r in server)


def test_server_wheel_ships_the_default_repository(wheels):
    names = set(zipfile.ZipFile(wheels["oneiros"]).namelist())
    for model in DEFAULT_MODELS:
        assert any(n.startswith(f"oneiros_server/models/{model}/") and n.endswith("model.json") for n in names)


def test_server_wheel_ships_the_playground(wheels):
    names = set(zipfile.ZipFile(wheels["oneiros"]).namelist())
    folder = REPO_ROOT / "server" / "oneiros_server" / "transport" / "http" / "playground"
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    missing = [f for f in files if f"oneiros_server/transport/http/playground/{f}" not in names]
    assert "index.html" in files and missing == []


def _fresh_venv(root: Path, wheels: dict[str, Path]) -> Path:
    """A venv holding only our wheels; third-party deps are borrowed from this venv via a .pth."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index", "--no-deps"]
    subprocess.run([*pip, "--ignore-installed", *map(str, wheels.values())], check=True)
    (site / "zz_borrowed_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return site


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_installed_server_serves_defaults_from_an_empty_folder(wheels, tmp_path):
    site = _fresh_venv(tmp_path / "venv", wheels)
    ours = {p.name for p in site.iterdir() if not p.name.endswith((".dist-info", ".pth")) and p.name != "__pycache__"}
    assert ours == {"oneiros", "oneiros_client", "oneiros_server", "oneiros_training", "oneiros_export"}

    empty, port = tmp_path / "empty", _free_port()
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEIROS_")} | {
        "ONEIROS_METRICS_PORT": "-1",
        "ONEIROS_HTTP_PORT": "-1",
    }
    server = subprocess.Popen(
        [str(tmp_path / "venv" / "bin" / "oneiros-server"), "--port", str(port)],
        cwd=empty,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 120
            while True:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                assert time.monotonic() < deadline, "oneiros-server never reported SERVING"
                time.sleep(0.5)
            models = oneiros_pb2_grpc.OneirosStub(channel).ListModels(pb.ListModelsRequest(), timeout=10).models
            assert sorted(m.name for m in models) == DEFAULT_MODELS
            assert all(m.status == pb.READY for m in models), [(m.name, m.status_reason) for m in models]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_missing_model_repository_is_a_start_up_error(tmp_path):
    missing = tmp_path / "nowhere"
    out = subprocess.run(
        [sys.executable, "-m", "oneiros_server", "--port", "0", "--model-repository", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "model_repository" in out.stderr and str(missing) in out.stderr


def test_every_package_folder_is_listed_in_pyproject():
    import tomllib

    setuptools = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for name, folder in setuptools["package-dir"].items():
        for init in (REPO_ROOT / folder).rglob("__init__.py"):
            found.add(".".join([name, *init.parent.relative_to(REPO_ROOT / folder).parts]))
    assert found <= set(setuptools["packages"]), (
        f"missing from pyproject.toml: {sorted(found - set(setuptools['packages']))}"
    )

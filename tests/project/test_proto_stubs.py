"""The committed stubs are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

REPO = REPO_ROOT
GENERATED = ("oneiros_pb2.py", "oneiros_pb2.pyi", "oneiros_pb2_grpc.py")


def test_stubs_match_proto(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{REPO / 'proto'}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            "oneiros/v1/oneiros.proto",
        ],
        check=True,
        cwd=REPO,
    )
    committed = REPO / "proto" / "oneiros" / "v1"
    drifted = [
        name
        for name in GENERATED
        if (tmp_path / "oneiros" / "v1" / name).read_bytes() != (committed / name).read_bytes()
    ]
    assert not drifted, f"stubs drifted from proto/: {drifted}; run `make proto` and commit"


def test_stubs_import_without_patching():
    code = "from oneiros.v1 import oneiros_pb2_grpc, oneiros_pb2; print(oneiros_pb2.DESCRIPTOR.package)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "oneiros.v1"

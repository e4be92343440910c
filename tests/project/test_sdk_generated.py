"""The SDK's generated modules are exactly what `make sdk` renders from their one source."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

SDK = REPO_ROOT / "clients" / "python"


def generate(sdk: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(sdk / "generate_sdk.py"), *args], capture_output=True, text=True)


def test_committed_modules_match_their_sources():
    done = generate(SDK, "--check")
    assert done.returncode == 0, done.stderr


def test_a_parameter_added_to_a_builder_reaches_both_clients(tmp_path: Path):
    sdk = tmp_path / "python"
    shutil.copytree(SDK, sdk, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    requests = sdk / "oneiros_client" / "_requests.py"
    requests.write_text(requests.read_text().replace("    n: int = 1,\n", "    n: int = 1,\n    echo: bool = False,\n"))

    drifted = generate(sdk, "--check")
    assert drifted.returncode == 1 and "_methods_async.py, _methods_sync.py" in drifted.stderr
    assert generate(sdk).returncode == 0 and generate(sdk, "--check").returncode == 0
    for name in ("_methods_async.py", "_methods_sync.py"):
        text = (sdk / "oneiros_client" / name).read_text()
        assert text.count("echo: bool = False,") == 2 and text.count("echo=echo,") == 2  # sample, sample_stream

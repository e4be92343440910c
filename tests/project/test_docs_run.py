"""Every documented command runs as pasted: the docs' ```sh and ```python blocks against one server.

The server is the Makefile's `serve` recipe (`make serve`), started in a scratch folder that
mirrors the repository root (its entries linked, `.venv` linked to this interpreter's venv),
with ONEIROS_PORT, ONEIROS_HTTP_PORT and ONEIROS_METRICS_PORT at 0 (free ports). Blocks run in
that folder, in document order, as a user in one terminal would, with `.venv/bin` first on PATH
and ONEIROS_TARGET set: shell blocks with `bash -e -o pipefail` (curl with --fail-with-body
unless it shows the status with -i; make with -o .venv/.installed, so that it never installs),
Python blocks with this interpreter. The docs' `localhost:50051`, `:8080` and `:9464` are
rewritten to the server's ports. Markers in the docs skip a block (with its reason) or
substitute smaller sizes (tests/docs_blocks.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import REPO_ROOT
from tests.docs_blocks import Block, documents, parse

NOT_MIRRORED = {".git", ".venv", "build", "dist", "data", "runs", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
DOC_PORTS = re.compile(r"\b(?:localhost|127\.0\.0\.1):(50051|8080|9464)\b")
BLOCK_TIMEOUT_S = 300
# curl exits 0 on an HTTP error: in the blocks it fails on one, unless it shows the status (-i).
# make never (re)installs: .venv is this interpreter's venv.
SHELL_PRELUDE = (  # one line, so that error line numbers stay the doc's
    r"""curl() { local arg fail=--fail-with-body; for arg in "$@"; do"""
    r""" [[ $arg =~ ^-[a-zA-Z]*i[a-zA-Z]*$ || $arg == --include ]] && fail=; done; command curl $fail "$@"; };"""
    r""" make() { command make -o .venv/.installed "$@"; }"""
)
SERVING_TIMEOUT_S = 300

BLOCKS = [block for doc in documents(REPO_ROOT) for block in parse(doc, REPO_ROOT)]


class DocsServer:
    """`make serve` on free ports in a mirror of the repository root; ``stop()`` drains it like Ctrl-C."""

    def __init__(self, root: Path):
        self.root = root
        self.log = root / "oneiros-server.log"
        recipe = subprocess.run(
            ["make", "-s", "-n", "-o", ".venv/.installed", "serve"], cwd=root, capture_output=True, text=True
        )
        assert recipe.returncode == 0 and recipe.stdout.strip(), recipe.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONEIROS_")}
        env |= {"ONEIROS_HOST": "127.0.0.1", "ONEIROS_LOG_JSON": "true"}
        env |= {f"ONEIROS_{name}": "0" for name in ("PORT", "HTTP_PORT", "METRICS_PORT")}
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                shlex.split(recipe.stdout.strip()), cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.ports = self._listening()
        self._wait_serving()

    def _listening(self) -> dict[str, int]:
        deadline = time.monotonic() + SERVING_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"make serve exited:\n{self.tail()}"
            for line in self.log.read_text().splitlines():
                entry = json.loads(line) if line.startswith("{") else {}
                if entry.get("msg") == "listening":
                    grpc_port = int(entry["address"].rsplit(":", 1)[1])
                    return {"50051": grpc_port, "8080": entry["http_port"], "9464": entry["metrics_port"]}
            time.sleep(0.2)
        raise AssertionError(f"make serve never said where it listens:\n{self.tail()}")

    def _wait_serving(self) -> None:
        with grpc.insecure_channel(self.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + SERVING_TIMEOUT_S
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"make serve exited:\n{self.tail()}"
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10, wait_for_ready=True)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
                time.sleep(0.5)
        raise AssertionError(f"make serve never reported SERVING:\n{self.tail()}")

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.ports['50051']}"

    def point_at_me(self, code: str) -> str:
        return DOC_PORTS.sub(lambda m: f"127.0.0.1:{self.ports[m.group(1)]}", code)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text().splitlines()[-lines:])

    def stop(self) -> None:
        self.process.send_signal(2)  # SIGINT: Ctrl-C
        self.process.wait(timeout=60)


def mirror(root: Path) -> Path:
    """A folder whose entries link to the repository's, so that what blocks write stays out of it."""
    for entry in REPO_ROOT.iterdir():
        if entry.name not in NOT_MIRRORED and not entry.name.endswith(".egg-info"):
            (root / entry.name).symlink_to(entry)
    (root / ".venv").symlink_to(Path(sys.prefix))
    return root


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    server = DocsServer(mirror(tmp_path_factory.mktemp("repo")))
    yield server
    server.stop()


def _command(block: Block, code: str) -> list[str]:
    """The block's interpreter, with the code padded so that errors name the doc's own line numbers."""
    if block.language == "python":
        return [sys.executable, "-c", "\n" * block.line + code]
    return ["bash", "-e", "-o", "pipefail", "-c", SHELL_PRELUDE + "\n" * block.line + code]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_documented_block_runs(block: Block, docs_server: DocsServer):
    if block.skip:
        pytest.skip(f"{block.where}: {block.skip}")
    code = docs_server.point_at_me(block.runnable_code())
    env = os.environ | {
        "PATH": f"{docs_server.root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "ONEIROS_TARGET": docs_server.target,
    }
    try:
        out = subprocess.run(
            _command(block, code),
            cwd=docs_server.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.where}: the {block.language} block ran past {BLOCK_TIMEOUT_S} s")
    assert out.returncode == 0, (
        f"{block.where}: the {block.language} block failed (exit {out.returncode})\n"
        f"--- stdout\n{out.stdout[-3000:]}\n--- stderr\n{out.stderr[-3000:]}\n--- server log\n{docs_server.tail(10)}"
    )


def test_the_docs_have_blocks_to_run():
    docs = {block.doc for block in BLOCKS}
    assert {"README.md", "clients/python/README.md"} <= docs
    assert sum(block.skip is None for block in BLOCKS) > len(BLOCKS) / 2, "most blocks must run"

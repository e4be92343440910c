"""A port that is taken stops `oneiros-server` with one line naming the setting, and exit status 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.parametrize("setting", ["port", "http_port", "metrics_port"])
def test_a_taken_port_is_one_line_naming_the_setting(setting, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        ports = {"port": "0", "http_port": "0", "metrics_port": "0"} | {setting: str(taken.getsockname()[1])}
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONEIROS_")}
        env |= {f"ONEIROS_{name.upper()}": value for name, value in ports.items()}
        out = subprocess.run(
            [sys.executable, "-m", "oneiros_server", "--host", "127.0.0.1", "--model-repository", str(tmp_path)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"oneiros-server: error: {setting}: 127.0.0.1:{ports[setting]} is already in use")
    assert f"--{setting.replace('_', '-')}" in lines[0] and f"ONEIROS_{setting.upper()}" in lines[0]


def test_the_three_variables_move_all_three_ports(tmp_path):
    """The quick start's ONEIROS_PORT / ONEIROS_HTTP_PORT / ONEIROS_METRICS_PORT."""
    free = []
    for _ in range(3):
        with socket.create_server(("127.0.0.1", 0)) as probe:
            free.append(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEIROS_")} | {
        "ONEIROS_PORT": str(free[0]),
        "ONEIROS_HTTP_PORT": str(free[1]),
        "ONEIROS_METRICS_PORT": str(free[2]),
        "ONEIROS_HOST": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "oneiros_server", "--model-repository", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in server.stderr:
            entry = json.loads(line)
            if entry["msg"] == "listening":
                break
        assert entry["address"] == f"127.0.0.1:{free[0]}"
        assert (entry["http_port"], entry["metrics_port"]) == (free[1], free[2])
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0

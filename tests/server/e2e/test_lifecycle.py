"""The real process: `python -m oneiros_server` binds, reports health, and drains on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import REPO_ROOT

REPO = REPO_ROOT


def _start(tmp_path: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oneiros_server",
            "--model-repository",
            str(tmp_path),
            "--http-port",
            "-1",
            "--metrics-port",
            "-1",
            *args,
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        entry = json.loads(line)
        if entry["msg"] == "listening":
            return proc, int(entry["address"].rsplit(":", 1)[1])
    proc.kill()
    raise AssertionError("server did not report its address")


def test_sigterm_drains_and_exits_cleanly(tmp_path):
    proc, port = _start(tmp_path, "--port", "0", "--grace-period-s", "2")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            response = health.Check(health_pb2.HealthCheckRequest(), timeout=10, wait_for_ready=True)
            assert response.status in (
                health_pb2.HealthCheckResponse.SERVING,
                health_pb2.HealthCheckResponse.NOT_SERVING,
            )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        log = proc.stderr.read()
        assert '"msg": "draining"' in log and '"msg": "stopped"' in log
    finally:
        if proc.poll() is None:
            proc.kill()


def test_port_from_environment_and_flag_precedence(tmp_path):
    # The environment sets the port; a flag overrides it.
    proc, port = _start(tmp_path, "--port", "0", env={"ONEIROS_PORT": "1"})
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    assert port != 1


def test_invalid_setting_is_refused_at_start(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "oneiros_server", "--model-repository", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ONEIROS_PORT": "99999"},
    )
    assert out.returncode == 2
    assert "port" in out.stderr


def test_in_flight_calls_finish_during_the_grace_period(serve):
    """Drain while a stream and unary calls run: they complete in full; new calls get UNAVAILABLE."""
    import threading

    from oneiros.v1 import oneiros_pb2 as pb

    running = serve(REPO / "models")
    stub = running.stub
    stream = stub.SampleStream(pb.SampleRequest(prompt="And ", max_tokens=2000, seed=1, temperature=1.0))
    first = next(stream)
    stopper = threading.Thread(target=running.server.stop, kwargs={"grace": 20})
    stopper.start()
    time.sleep(0.2)  # the drain has begun, the stream is still running
    assert running.server.state.draining.is_set() and stopper.is_alive()
    with pytest.raises(grpc.RpcError) as err:
        stub.Decode(pb.DecodeRequest(count=1), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    chunks = [first, *stream]
    stopper.join(30)
    text = "".join(c.text for c in chunks)
    assert chunks[-1].finish_reason == pb.LENGTH and chunks[-1].token_count == 2000
    assert len(text) == 2000  # nothing truncated

"""`--workers 2`: one port served by two processes, a killed worker replaced, SIGTERM drains both, one /metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from tests.conftest import REPO_ROOT
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

CALLS = 16  # each on a connection of its own: SO_REUSEPORT spreads connections over the workers
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]  # channels to one target share one otherwise
TOKENS = 2000  # about a second of generation for a batch of 8 on the tiny model


class Workers:
    """``python -m oneiros_server --workers 2`` and its log, one JSON entry per line."""

    def __init__(self, metrics_dir: Path):
        self.metrics_dir = metrics_dir
        metrics_dir.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oneiros_server", "--model-repository", str(tiny_lm_repository())]
            + ["--workers", "2", "--port", "0", "--http-port", "0", "--metrics-port", "0"]
            + ["--grace-period-s", "60"],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        )
        self.log: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        assert wait_until(lambda: self.entries("every worker serving"), 120), self.log
        listening = self.entries("listening", "workers")[0]
        self.target = "127.0.0.1:" + listening["address"].rsplit(":", 1)[1]
        self.metrics_url = f"http://127.0.0.1:{listening['metrics_port']}/metrics"

    def _read(self) -> None:
        for line in self.proc.stderr:
            if line.startswith("{"):
                self.log.append(json.loads(line))

    def entries(self, msg: str, key: str | None = None) -> list[dict]:
        return [e for e in list(self.log) if e["msg"] == msg and (key is None or key in e)]

    def pids(self) -> dict[int, int]:
        """Worker index -> pid of its latest process."""
        return {e["worker"]: e["pid"] for e in self.entries("worker started")}

    def health(self) -> int:
        with grpc.insecure_channel(self.target) as channel:
            request = health_pb2.HealthCheckRequest(service="oneiros.v1.Oneiros")
            return health_pb2_grpc.HealthStub(channel).Check(request, timeout=10).status

    def sample(self) -> str:
        with grpc.insecure_channel(self.target, options=OWN_CONNECTION) as channel:
            stub = oneiros_pb2_grpc.OneirosStub(channel)
            return stub.Sample(pb.SampleRequest(prompt="And", max_tokens=5, seed=1), timeout=30).completions[0].text

    def metric(self, name: str, **labels: str) -> float | None:
        """The summed /metrics' samples of ``name`` that carry ``labels``, added up (None: no sample)."""
        found = None
        for family in text_string_to_metric_families(httpx.get(self.metrics_url, timeout=10).text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    found = (found or 0.0) + sample.value
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """One server for the tests that leave it running (starting one takes seconds)."""
    running = Workers(tmp_path_factory.mktemp("workers") / "metrics")
    yield running
    running.stop()


@pytest.fixture
def own_workers(tmp_path):
    running = Workers(tmp_path / "metrics")
    yield running
    running.stop()


def _in_flight(workers: Workers) -> list:
    """CALLS Sample calls, each on a connection of its own, all admitted (in flight) on return."""
    calls = []
    for seed in range(CALLS):
        channel = grpc.insecure_channel(workers.target, options=OWN_CONNECTION)
        request = pb.SampleRequest(prompt="And", max_tokens=TOKENS, temperature=1.0, seed=seed)
        calls.append((channel, oneiros_pb2_grpc.OneirosStub(channel).Sample.future(request, timeout=120)))
    assert wait_until(lambda: workers.metric("oneiros_requests_in_flight") == CALLS, 30, interval=0.02)
    return calls


def _outcomes(calls: list) -> list:
    """Each call's completion, or the status code it failed with."""
    outcomes = []
    for channel, future in calls:
        try:
            outcomes.append(future.result().completions[0])
        except grpc.RpcError as err:
            outcomes.append(err.code())
        channel.close()
    return outcomes


def _complete(outcome) -> bool:
    return isinstance(outcome, pb.Completion) and outcome.finish_reason == pb.LENGTH and outcome.token_count == TOKENS


def test_a_killed_worker_costs_only_its_calls_and_is_replaced(workers):
    assert workers.health() == health_pb2.HealthCheckResponse.SERVING
    before = workers.pids()
    calls = _in_flight(workers)
    os.kill(before[0], signal.SIGKILL)
    outcomes = _outcomes(calls)
    # The other worker's calls run to their end; the killed worker's fail, and only those.
    completed = [o for o in outcomes if _complete(o)]
    failed = [o for o in outcomes if not _complete(o)]
    assert completed and failed, outcomes
    assert set(failed) == {grpc.StatusCode.UNAVAILABLE}
    died = workers.entries("worker died; restarting it")
    assert [(e["worker"], e["pid"], e["signal"]) for e in died] == [(0, before[0], "SIGKILL")]
    assert wait_until(lambda: len(workers.entries("every worker serving")) == 2, 60), workers.log
    after = workers.pids()
    assert after[0] != before[0] and after[1] == before[1]
    messages = [e["msg"] for e in workers.log if e["logger"] == "oneiros.workers"]
    died_at = messages.index("worker died; restarting it")
    assert messages[died_at:].index("waiting for a worker") < messages[died_at:].index("every worker serving")
    assert workers.health() == health_pb2.HealthCheckResponse.SERVING
    assert all(workers.sample() for _ in range(8))
    assert workers.metric("oneiros_worker_restarts_total") == 1


def test_sigterm_drains_every_worker(own_workers):
    workers = own_workers
    calls = _in_flight(workers)
    workers.proc.send_signal(signal.SIGTERM)
    assert all(_complete(o) for o in _outcomes(calls))
    assert workers.proc.wait(timeout=60) == 0
    stopped = workers.entries("worker stopped")
    assert sorted((e["worker"], e["exit_code"]) for e in stopped) == [(0, 0), (1, 0)]
    assert not workers.entries("worker died; restarting it")


def test_metrics_are_summed_over_workers(workers):
    ok = {"code": "OK", "rpc": "Sample", "transport": "grpc"}
    before = workers.metric("oneiros_requests_total", **ok) or 0
    calls = 24
    for _ in range(calls):  # a connection each, so both workers serve some
        workers.sample()
    writers = {p.stem.rsplit("_", 1)[1] for p in workers.metrics_dir.glob("counter_*.db")}
    assert {str(pid) for pid in workers.pids().values()} <= writers
    assert workers.metric("oneiros_requests_total", **ok) == before + calls
    assert workers.metric("oneiros_model_ready", model="tiny-lm", version="1") == 1
    assert workers.metric("oneiros_requests_in_flight") == 0

"""Quick versions of the load, soak and fault checks (`make soak` runs the full ones).

One server process with the default model repository; loopback only, bounded in time.
"""

from __future__ import annotations

import grpc
import pytest

from bench.common import server_process_with_pid
from bench.soak import ALLOWED, cancel_streams, memory_growth, mixed_load


@pytest.fixture(scope="module")
def server():
    # Small queues so that the mixed load really meets RESOURCE_EXHAUSTED.
    with server_process_with_pid(
        "--metrics-port", "0", "--job-queue-size", "2", "--torch-threads", "1", "--ort-threads", "1"
    ) as (port, pid, metrics_port):
        yield f"127.0.0.1:{port}", pid, metrics_port


def test_mixed_load_gets_only_expected_statuses(server):
    target, _, _ = server
    outcomes = mixed_load(target, clients=12, seconds=6, deadline_s=20)
    unexpected = {k: v for k, v in outcomes.items() if grpc.StatusCode[k[1]] not in ALLOWED}
    assert not unexpected, unexpected
    ok = {rpc for (rpc, code), n in outcomes.items() if code == "OK" and n > 0}
    assert {"Decode", "EditLatent", "Sample", "SampleStream"} <= ok, outcomes


def test_memory_is_flat_over_repeated_calls(server):
    target, pid, _ = server
    warm, after = memory_growth(target, pid, requests=1500, clients=4)
    assert (after - warm) / warm < 0.05, (warm, after)


def test_cancelled_streams_leave_nothing_running(server):
    target, _, metrics_port = server
    figures = cancel_streams(target, metrics_port, streams=12)
    assert figures.get("oneiros_jobs_active", 0) == 0
    assert figures.get("oneiros_sequences_active", 0) == 0

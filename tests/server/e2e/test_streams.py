"""SampleStream through the asyncio core: queued callers who leave, slow readers, capacity."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections import Counter

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client.parser import text_string_to_metric_families

from oneiros.v1 import oneiros_pb2 as pb
from tests.lm_tiny import tiny_lm_repository
from tests.waiting import wait_until

# A holder that runs until the test cancels it, however fast the machine (needs the raised cap below).
HOLD_TOKENS = 1_000_000
LONG = pb.SampleRequest(prompt="And", max_tokens=HOLD_TOKENS, temperature=1.0)


def gauge(port: int, name: str, queue: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("queue") == queue:
                return sample.value
    return 0.0


@pytest.fixture
def one_slot(serve):
    """One sequence at a time, one more queued."""
    running = serve(tiny_lm_repository(), batch_max_size=1, batch_queue_size=1, sample_max_tokens=HOLD_TOKENS)
    return running, running.server.repository.resolve("tiny-lm", "Sample").engine_set


@pytest.mark.parametrize("leave", ["cancel", "deadline"])
def test_a_queued_caller_who_leaves_frees_its_slot_at_once(one_slot, leave):
    running, engine = one_slot
    holder = running.stub.SampleStream(LONG)
    next(holder)
    before = engine.batcher.prefilled
    queued = running.stub.SampleStream(
        pb.SampleRequest(prompt="And God said", max_tokens=5), timeout=1.0 if leave == "deadline" else None
    )
    assert wait_until(lambda: engine.batcher.depth == 1)
    if leave == "cancel":
        queued.cancel()
    with pytest.raises(grpc.RpcError) as err:
        list(queued)
    assert err.value.code() == (grpc.StatusCode.CANCELLED if leave == "cancel" else grpc.StatusCode.DEADLINE_EXCEEDED)
    assert wait_until(lambda: engine.batcher.depth == 0)  # while the holder still runs
    assert gauge(running.server.metrics_port, "oneiros_queue_depth", "sample-tiny-lm") == 0
    later = running.stub.SampleStream(pb.SampleRequest(prompt="God", max_tokens=5, seed=1))  # not refused
    assert wait_until(lambda: engine.batcher.depth == 1)
    holder.cancel()
    chunks = list(later)
    assert chunks[-1].finish_reason == pb.LENGTH
    assert engine.batcher.prefilled - before == len("\nGod")  # the queued prompt was never prefilled
    assert wait_until(lambda: engine.active == 0)


def test_a_slow_reader_gets_the_same_text(serve):
    running = serve(tiny_lm_repository())
    request = pb.SampleRequest(prompt="And", max_tokens=300, temperature=1.0, seed=4, n=2)
    unary = running.stub.Sample(request)
    texts = {0: "", 1: ""}
    for chunk in running.stub.SampleStream(request):
        texts[chunk.index] += chunk.text
        time.sleep(0.01)  # a reader slower than the model
    assert [texts[c.index] for c in unary.completions] == [c.text for c in unary.completions]


def test_past_the_call_limit_calls_are_refused_at_once_with_a_retry_hint(serve):
    running = serve(tiny_lm_repository(), max_concurrent_rpcs=1, sample_max_tokens=HOLD_TOKENS)
    holder = running.stub.SampleStream(LONG)
    next(holder)
    with pytest.raises(grpc.RpcError) as err:
        running.stub.Sample(pb.SampleRequest(max_tokens=1), timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in rpc_status.from_call(err.value).details)
    assert retry.retry_delay.ToNanoseconds() > 0
    holder.cancel()


# The 1,024 streams come from a client process of its own, as they would in production: a
# grpc.aio client on a second event loop in the server's process is not a setup grpc supports.
MANY_STREAMS = """
import asyncio, sys
import grpc
from oneiros.v1 import oneiros_pb2 as pb, oneiros_pb2_grpc

async def main(target):
    async with grpc.aio.insecure_channel(target) as channel:
        stub = oneiros_pb2_grpc.OneirosStub(channel)

        async def one(seed):
            try:
                chunks = [c async for c in stub.SampleStream(pb.SampleRequest(max_tokens=32, seed=seed))]
            except grpc.aio.AioRpcError as e:
                return f"{e.code().name}: {e.details()}"
            return f"{pb.FinishReason.Name(chunks[-1].finish_reason)} {chunks[-1].token_count}"

        for line in await asyncio.gather(*(one(s) for s in range(1024))):
            print(line)

asyncio.run(main(sys.argv[1]))
"""


def test_1024_concurrent_streams_are_admitted_at_defaults_and_all_finish(serve):
    running = serve(tiny_lm_repository())
    engine = running.server.repository.resolve("tiny-lm", "Sample").engine_set
    client = subprocess.run(
        [sys.executable, "-c", MANY_STREAMS, running.target], capture_output=True, text=True, timeout=300
    )
    assert client.returncode == 0, client.stderr[-2000:]
    assert Counter(client.stdout.splitlines()) == {"LENGTH 32": 1024}
    assert engine.batcher.stats.largest > 1
    assert wait_until(lambda: engine.active == 0 and engine.batcher.depth == 0)


@pytest.mark.parametrize("pending_timeout_s, expected", [(1, "CANCELLED"), (None, "OK")])
def test_calls_waiting_for_a_busy_event_loop_are_not_cancelled_by_grpc(serve, pending_timeout_s, expected):
    """grpc core cancels a call no handler has taken within ``grpc_pending_call_timeout_s`` (its
    own default: 30 s). grpc.aio takes new calls on its event loop, so a loop kept busy (here
    blocked outright; under load, 1,024 streams) leaves them waiting: at the server's default
    (an hour) they are served once the loop is free."""
    overrides = {} if pending_timeout_s is None else {"grpc_pending_call_timeout_s": pending_timeout_s}
    running = serve(tiny_lm_repository(), **overrides)
    running.stub.Sample(pb.SampleRequest(max_tokens=3), timeout=20)  # connected
    running.server.loop.call_soon_threadsafe(time.sleep, 2.5)  # no call is taken meanwhile
    calls = [running.stub.Sample.future(pb.SampleRequest(max_tokens=3), timeout=30) for _ in range(3)]
    codes = [c.code().name for c in calls]  # waits for each
    assert codes[1:] == [expected, expected]  # the first may meet a request grpc.aio had already posted

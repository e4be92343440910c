"""DynamicBatcher: coalescing, bounded queue, callers that give up."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from oneiros_server.errors import Cancelled, Overloaded
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.dynamic import DynamicBatcher


def test_concurrent_items_coalesce_into_few_batches():
    calls: list[int] = []

    def run(items):
        calls.append(len(items))
        time.sleep(0.01)
        return [x * 2 for x in items]

    batcher = DynamicBatcher(run, name="t", max_size=16, max_delay_s=0.02)
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda x: batcher.run(x), range(64)))
    batcher.close()
    assert results == [x * 2 for x in range(64)]
    assert sum(calls) == 64
    assert len(calls) < 64 and max(calls) <= 16  # coalesced, never above max_size


def test_batch_respects_item_sizes():
    seen: list[int] = []
    release = threading.Event()

    def run(items):
        release.wait(2)
        seen.append(sum(items))
        return items

    batcher = DynamicBatcher(run, name="t", max_size=10, max_delay_s=0.05)
    futures = [batcher.submit(size, size=size) for size in (4, 4, 4, 4)]
    release.set()
    assert [f.result(2) for f in futures] == [4, 4, 4, 4]
    batcher.close()
    assert all(total <= 10 for total in seen)


def test_full_queue_is_refused_at_once():
    gate = threading.Event()
    batcher = DynamicBatcher(lambda items: (gate.wait(5), items)[1], name="t", max_size=1, max_delay_s=0, max_queue=2)
    first = batcher.submit(0)
    time.sleep(0.05)  # the worker holds item 0; the queue is empty again
    batcher.submit(1)
    batcher.submit(2)
    with pytest.raises(Overloaded) as err:
        batcher.submit(3)
    assert err.value.retry_after_s > 0
    gate.set()
    first.result(5)
    batcher.close()


def test_cancelled_caller_is_dropped_unrun():
    ran: list[int] = []
    gate = threading.Event()

    def run(items):
        gate.wait(5)
        ran.extend(items)
        return items

    batcher = DynamicBatcher(run, name="t", max_size=1, max_delay_s=0)
    blocker = batcher.submit(-1)
    time.sleep(0.05)
    control = CallControl()
    result: dict = {}

    def call():
        try:
            batcher.run(7, control=control)
        except Cancelled as exc:
            result["err"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.05)
    control.cancel()
    thread.join(2)
    gate.set()
    blocker.result(5)
    batcher.close()
    assert isinstance(result.get("err"), Cancelled)
    assert 7 not in ran


def test_errors_reach_every_caller_of_the_batch():
    def run(items):
        raise ValueError("boom")

    batcher = DynamicBatcher(run, name="t", max_size=8, max_delay_s=0.01)
    futures = [batcher.submit(i) for i in range(3)]
    for f in futures:
        with pytest.raises(ValueError):
            f.result(2)
    batcher.close()

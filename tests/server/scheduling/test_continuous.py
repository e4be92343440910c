"""ContinuousBatcher over a fake StepRuntime: chunked prefill, joins and leaves, cancellation."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from oneiros_server.errors import Cancelled, Overloaded
from oneiros_server.scheduling.continuous import ContinuousBatcher
from oneiros_server.scheduling.control import CallControl
from tests.waiting import wait_until

VOCAB = 4


class FakeRuntime:
    """Records every call; state = tokens seen per sequence."""

    def __init__(self, gate: threading.Event | None = None):
        self.calls: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
        self.seen: dict[int, int] = {}
        self.gate = gate

    def _logits(self, n: int) -> np.ndarray:
        if self.gate is not None:
            self.gate.wait(5)
        return np.zeros((n, VOCAB), np.float32)

    def prefill(self, seq_ids, chunks):
        self.calls.append(("prefill", tuple(seq_ids), tuple(len(c) for c in chunks)))
        for s, c in zip(seq_ids, chunks, strict=True):
            self.seen[s] = self.seen.get(s, 0) + len(c)
        return self._logits(len(seq_ids))

    def decode(self, seq_ids, tokens):
        self.calls.append(("decode", tuple(seq_ids), ()))
        return self._logits(len(seq_ids))

    def fork(self, seq_id, new_ids):
        for s in new_ids:
            self.seen[s] = self.seen[seq_id]

    def release(self, seq_ids):
        for s in seq_ids:
            self.seen.pop(s, None)


@dataclass(eq=False)
class FakeRow:
    seq_id: int = -1
    last: int = 0
    tokens: int = 0
    finish_reason: str | None = None


@dataclass(eq=False)
class FakeItem:
    prompt: np.ndarray
    max_tokens: int
    control: CallControl = field(default_factory=CallControl)
    rows: list[FakeRow] = field(default_factory=lambda: [FakeRow()])
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    @property
    def finished(self) -> bool:
        return all(r.finish_reason is not None for r in self.rows)

    def abort(self, exc):
        self.error = exc
        for r in self.rows:
            r.finish_reason = r.finish_reason or "CANCELLED"
        self.done.set()


def sample(pairs, logits):
    for item, row in pairs:
        row.tokens += 1
        if row.tokens >= item.max_tokens:
            row.finish_reason = "LENGTH"
            if item.finished:
                item.done.set()


@pytest.fixture
def make():
    made = []

    def _make(runtime=None, **kw):
        runtime = runtime or FakeRuntime()
        batcher = ContinuousBatcher(runtime, sample, name="test", **kw)
        made.append(batcher)
        return batcher, runtime

    yield _make
    for b in made:
        b.close()


def item(prompt_len: int, max_tokens: int, rows: int = 1) -> FakeItem:
    return FakeItem(np.zeros(prompt_len, np.int64), max_tokens, rows=[FakeRow() for _ in range(rows)])


def test_long_prompt_is_prefilled_in_chunks_between_decode_steps(make):
    batcher, runtime = make(prefill_chunk=8, prefill_budget=8)
    running = item(1, 10_000)
    batcher.submit(running, 1)
    assert wait_until(lambda: any(c[0] == "decode" for c in runtime.calls))
    long = item(64, 3)
    batcher.submit(long, 1)
    assert long.done.wait(10)
    mine = (long.rows[0].seq_id,)
    at = [i for i, c in enumerate(runtime.calls) if c[0] == "prefill" and c[1] == mine]
    assert len(at) == 8 and all(runtime.calls[i][2] == (8,) for i in at)  # 64 tokens, 8 at a time
    # A decode step of the running sequence between every two chunks: nobody waits for the prompt.
    for a, b in zip(at, at[1:]):
        assert any(c[0] == "decode" and running.rows[0].seq_id in c[1] for c in runtime.calls[a:b])
    running.control.cancel()
    batcher.cancel(running)


def test_n_rows_share_one_prefill_and_state_is_released(make):
    batcher, runtime = make()
    it = item(5, 4, rows=3)
    batcher.submit(it, 3)
    assert it.done.wait(10)
    assert [c for c in runtime.calls if c[0] == "prefill"] == [("prefill", (it.rows[0].seq_id,), (5,))]
    decodes = [c for c in runtime.calls if c[0] == "decode"]
    assert all(len(c[1]) == 3 for c in decodes) and len(decodes) == 3  # 1 token from prefill + 3 steps
    batcher.close()
    assert runtime.seen == {}


def test_cancel_while_queued_frees_the_slot_and_is_never_prefilled(make):
    gate = threading.Event()
    batcher, runtime = make(FakeRuntime(gate), max_rows=1, max_queue=1)
    blocker = item(1, 10_000)
    batcher.submit(blocker, 1)
    assert wait_until(lambda: batcher.active == 1)
    queued = item(7, 1)
    batcher.submit(queued, 1)
    with pytest.raises(Overloaded):
        batcher.submit(item(1, 1), 1)
    batcher.cancel(queued)
    assert batcher.depth == 0
    after = item(1, 2)
    batcher.submit(after, 1)  # the slot is free at once
    batcher.cancel(blocker)
    gate.set()
    assert after.done.wait(10)
    assert all(7 not in c[2] for c in runtime.calls)  # the cancelled prompt was never fed
    assert queued.rows[0].seq_id == -1


def test_a_cancelled_active_item_leaves_at_the_next_step(make):
    batcher, runtime = make()
    it = item(1, 10_000)
    batcher.submit(it, 1)
    assert wait_until(lambda: batcher.active == 1)
    it.control.cancel()  # the batcher sees it at its next settle
    assert it.done.wait(10)
    assert isinstance(it.error, Cancelled)
    assert wait_until(lambda: batcher.active == 0)
    assert runtime.seen == {}

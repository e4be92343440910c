"""Continuous batching over a step runtime: sequences join and leave between steps.

The seam for any autoregressive model is ``StepRuntime``: it owns each
sequence's state (a GRU's hidden state, a Transformer's KV cache) under an
integer id, and offers ``prefill`` (feed prompt chunks), ``decode`` (one token
per sequence), ``fork`` (copy a sequence's state to new ids: ``n`` completions of
one prompt) and ``release``. The batcher knows nothing of the model.

One worker thread runs the loop; each iteration:

    admit queued items while their rows fit in ``max_rows``
    prefill: up to ``prefill_budget`` prompt tokens, in chunks of at most
             ``prefill_chunk`` per sequence (a long prompt takes several
             iterations, so no decode step waits behind it); when a prompt is
             done its state is forked to the item's rows and ``sample`` picks
             their first tokens
    decode:  one ``decode`` call advances every live row; ``sample`` picks tokens
    settle:  items that finished, were cancelled or passed their deadline leave;
             their sequences are released

``cancel(item)`` (any thread) frees a queued item's slot at once (it is never
prefilled) and makes an active one leave at the next step. An item provides
``prompt`` (1-D int64, non-empty), ``rows`` (each with ``seq_id``, ``last`` and
``finish_reason``), ``control``, ``finished`` and ``abort(exc)``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from oneiros_server.errors import Cancelled, Overloaded, ShuttingDown
from oneiros_server.observability import metrics, tracing
from oneiros_server.scheduling.handoff import batched_wakes
from oneiros_server.scheduling.loop import BatchStats

log = logging.getLogger(__name__)


class StepRuntime(Protocol):
    """A model that advances sequences whose state it keeps, by id."""

    reach: int | None
    """How many of the last tokens can still change the next logits (a windowed Transformer's
    n_layer x (window - 1) + 1); None = all of them (a GRU). Longer prompts are cut to it."""

    def prefill(self, seq_ids: Sequence[int], chunks: Sequence[np.ndarray]) -> np.ndarray:
        """Feed each sequence its next prompt chunk (1-D token ids, any lengths); a new id
        starts from the empty state. Returns logits (B, V) after each chunk's last token."""
        ...

    def decode(self, seq_ids: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        """Feed one token per sequence: tokens (B,) int64 -> next-token logits (B, V)."""
        ...

    def fork(self, seq_id: int, new_ids: Sequence[int]) -> None:
        """Give each of ``new_ids`` a copy of ``seq_id``'s state."""
        ...

    def release(self, seq_ids: Sequence[int]) -> None:
        """Forget these sequences' state."""
        ...


Sample = Callable[[list[tuple[Any, Any]], np.ndarray], None]  # [(item, row)], logits (B, V)


@dataclass(eq=False)
class _Entry:
    item: Any
    size: int
    enqueued: float = field(default_factory=time.monotonic)
    offset: int = 0  # prompt tokens prefilled so far
    seq_ids: list[int] = field(default_factory=list)
    state: str = "queued"  # queued -> prefill -> decode -> gone
    cancelled: bool = False
    give_up_at: float = float("inf")  # still queued then: refused with a retry hint
    trace: tracing.Captured | None = None  # the call's trace, for its spans
    span: Any = None  # its time in the batch (its steps are not spanned: thousands per call)


class ContinuousBatcher:
    """Iteration-level batching of token generation (see the module docstring)."""

    def __init__(
        self,
        runtime: StepRuntime,
        sample: Sample,
        *,
        name: str,
        max_rows: int = 256,
        max_queue: int = 1024,
        prefill_chunk: int = 256,
        prefill_budget: int = 512,
        on_step: Callable[[int], None] | None = None,
        max_wait_s: float = 0.0,
    ):
        self.runtime = runtime
        self.sample = sample
        self.name = name
        self.max_rows = max_rows
        self.max_queue = max_queue
        self.prefill_chunk = prefill_chunk
        self.prefill_budget = prefill_budget
        self.on_step = on_step
        self.max_wait_s = max_wait_s  # 0 = no limit
        self.stats = BatchStats()
        self.prefilled = 0  # prompt tokens fed so far
        self._ids = itertools.count()
        self._queue: deque[_Entry] = deque()
        self._queued_size = 0
        self._active: list[_Entry] = []
        self._active_size = 0
        self._entries: dict[int, _Entry] = {}
        self._cv = threading.Condition()
        self._closed = False
        self._depth = metrics.QUEUE_DEPTH.labels(name)
        self._worker = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._worker.start()

    @property
    def active(self) -> int:
        """Rows (sequences) advancing now."""
        return self._active_size

    @property
    def depth(self) -> int:
        """Rows waiting in the queue."""
        return self._queued_size

    def submit(self, item: Any, size: int) -> None:
        """Queue ``item`` (``size`` rows); Overloaded at once when the queue is full."""
        with self._cv:
            if self._closed:
                raise ShuttingDown(f"{self.name} is shutting down")
            if self._queued_size + size > self.max_queue and self._queue:
                metrics.QUEUE_REJECTED.labels(self.name).inc()
                raise Overloaded(
                    f"{self.name} is at capacity ({self._active_size} rows running, "
                    f"{self._queued_size}/{self.max_queue} queued); retry shortly",
                    retry_after_s=0.5,
                )
            entry = _Entry(item, size, trace=tracing.capture())
            if self.max_wait_s > 0:
                entry.give_up_at = entry.enqueued + self.max_wait_s
            self._entries[id(item)] = entry
            self._queue.append(entry)
            self._queued_size += size
            self._depth.set(self._queued_size)
            self._cv.notify()

    def cancel(self, item: Any) -> None:
        """The caller gave up: a queued item leaves now, an active one at the next step."""
        with self._cv:
            entry = self._entries.get(id(item))
            if entry is None or entry.cancelled:
                return
            entry.cancelled = True
            if entry.state == "queued":
                self._queued_size -= entry.size
                self._depth.set(self._queued_size)
                del self._entries[id(item)]

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._worker.join(timeout=10)

    # ---------------------------------------------------------------- worker
    def _admit(self) -> bool:
        with self._cv:
            while not self._queue and not self._active and not self._closed:
                self._cv.wait()
            if self._closed:
                return False
            while self._queue:
                entry = self._queue[0]
                if entry.cancelled:
                    self._queue.popleft()
                    continue
                if self._active and self._active_size + entry.size > self.max_rows:
                    break
                self._queue.popleft()
                self._queued_size -= entry.size
                self._active_size += entry.size
                entry.state = "prefill"
                entry.seq_ids = [next(self._ids) for _ in range(entry.size)]
                for row, seq_id in zip(entry.item.rows, entry.seq_ids, strict=True):
                    row.seq_id = seq_id
                self._active.append(entry)
                tracing.record("oneiros.queue_wait", entry.trace, {"oneiros.queue": self.name})
                entry.span = tracing.start("oneiros.generate", entry.trace, {"oneiros.rows": entry.size})
                metrics.QUEUE_WAIT.labels(self.name).observe(time.monotonic() - entry.enqueued)
            expired = self._expire()
            self._depth.set(self._queued_size)
        for entry in expired:
            waited = time.monotonic() - entry.enqueued
            message = f"{self.name}: waited {waited:.1f} s for a slot behind {self._active_size} running sequences"
            entry.item.abort(Overloaded(message + "; retry shortly", retry_after_s=1.0))
        return True

    def _expire(self) -> list[_Entry]:
        """Take the queued entries that waited past their limit out of the queue (under the lock)."""
        now = time.monotonic()
        if not any(e.give_up_at <= now for e in self._queue):
            return []
        expired = [e for e in self._queue if e.give_up_at <= now and not e.cancelled]
        self._queue = deque(e for e in self._queue if e.give_up_at > now and not e.cancelled)
        for entry in expired:
            self._queued_size -= entry.size
            self._entries.pop(id(entry.item), None)
            metrics.QUEUE_REJECTED.labels(self.name).inc()
        return expired

    def _prefill(self) -> None:
        budget, picked = self.prefill_budget, []
        for entry in self._active:
            if entry.state != "prefill" or entry.cancelled:
                continue
            take = min(self.prefill_chunk, len(entry.item.prompt) - entry.offset, budget)
            if take <= 0:
                break
            picked.append((entry, entry.item.prompt[entry.offset : entry.offset + take]))
            budget -= take
        if not picked:
            return
        entries = [e for e, _ in picked]
        logits = self._call(self.runtime.prefill, entries, [e.seq_ids[0] for e in entries], [c for _, c in picked])
        if logits is None:
            return
        done, done_logits = [], []
        for i, (entry, chunk) in enumerate(picked):
            entry.offset += len(chunk)
            self.prefilled += len(chunk)
            if entry.offset >= len(entry.item.prompt):
                entry.state = "decode"
                if entry.size > 1:
                    self.runtime.fork(entry.seq_ids[0], entry.seq_ids[1:])
                done.append(entry)
                done_logits.append(np.repeat(logits[i : i + 1], entry.size, axis=0))
        if done:
            self.sample([(e.item, r) for e in done for r in e.item.rows], np.concatenate(done_logits))

    def _decode(self) -> None:
        pairs = [
            (e, r)
            for e in self._active
            if e.state == "decode" and not e.cancelled
            for r in e.item.rows
            if r.finish_reason is None
        ]
        if not pairs:
            return
        entries = list({id(e): e for e, _ in pairs}.values())
        tokens = np.fromiter((r.last for _, r in pairs), dtype=np.int64, count=len(pairs))
        logits = self._call(self.runtime.decode, entries, [r.seq_id for _, r in pairs], tokens)
        if logits is None:
            return
        self.sample([(e.item, r) for e, r in pairs], logits)
        self.stats.batches += 1
        self.stats.items += len(pairs)
        self.stats.largest = max(self.stats.largest, len(pairs))

    def _call(self, fn, entries: list[_Entry], *args):
        try:
            return fn(*args)
        except BaseException as exc:  # the runtime failed: every item in the call fails
            log.exception("%s: runtime call failed", self.name)
            for entry in entries:
                entry.item.abort(exc)
                entry.cancelled = True
            return None

    def _settle(self) -> None:
        keep = []
        for entry in self._active:
            item = entry.item
            exc = None if entry.cancelled else item.control.error()
            if entry.cancelled or exc is not None:
                if exc is not None:
                    item.abort(exc)
                elif not item.finished:
                    item.abort(Cancelled("the call was cancelled; work stopped"))
            elif not item.finished:
                keep.append(entry)
                continue
            self._leave(entry)
        self._active = keep

    def _leave(self, entry: _Entry) -> None:
        entry.state = "gone"
        tracing.end(entry.span)
        self.runtime.release(entry.seq_ids)
        with self._cv:
            self._active_size -= entry.size
            self._entries.pop(id(entry.item), None)

    def _loop(self) -> None:
        while self._admit():
            with batched_wakes():  # readers of this step's tokens: one loop wake-up
                self._prefill()
                self._decode()
                self._settle()
            if self.on_step is not None:
                self.on_step(self._active_size)
        exc = ShuttingDown(f"{self.name} is shutting down")
        with self._cv:
            queued = [e for e in self._queue if not e.cancelled]
            self._queue.clear()
            self._queued_size = 0
            self._depth.set(0)
        for entry in [*self._active, *queued]:
            if not entry.item.finished:
                entry.item.abort(exc)
            if entry.state != "queued":
                self._leave(entry)
        self._active = []
        if self.on_step is not None:
            self.on_step(0)

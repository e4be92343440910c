"""Continuous batching: every active generation of a model advances in the same step.

``ContinuousBatcher`` extends ``DynamicBatcher``: the same bounded queue and
``submit`` (``Overloaded`` when full, ``ShuttingDown`` when closed), but its worker
runs an iteration-level loop instead of one call per batch:

    loop: admit queued items while the active rows fit in ``max_size`` -> start(new)
          (e.g. prompt prefill) -> step(all active) (one runtime call) -> drop the
          items that finished, were cancelled, passed their deadline or were abandoned

New items join at the next step and finished ones leave without waiting for the
others. An item is any object with ``control`` (a ``CallControl``), ``finished`` and
``abandoned`` (bools) and ``abort(exc)``; its future resolves when it leaves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from oneiros_server.batching import DynamicBatcher, _Pending
from oneiros_server.control import CallControl
from oneiros_server.errors import OneirosError, ShuttingDown

log = logging.getLogger(__name__)


class Steppable(Protocol):
    control: CallControl

    @property
    def finished(self) -> bool: ...

    @property
    def abandoned(self) -> bool: ...

    def abort(self, exc: BaseException) -> None: ...


class ContinuousBatcher(DynamicBatcher):
    """Iteration-level batching of step-wise work (token generation)."""

    def __init__(
        self,
        start: Callable[[Sequence[Steppable]], None],
        step: Callable[[Sequence[Steppable]], None],
        *,
        name: str,
        max_size: int = 64,
        max_queue: int = 512,
        on_step: Callable[[int, int], None] | None = None,
        on_admit: Callable[[int, float], None] | None = None,
    ):
        self.start = start  # new items -> runs their first runtime call (prefill)
        self.step = step  # active items -> one runtime call advances each by one token
        self.on_step = on_step  # (active rows, items that left)
        self.on_admit = on_admit  # (rows admitted, seconds the oldest waited)
        self._active: list[_Pending] = []
        self._active_size = 0
        super().__init__(self._unused, name=name, max_size=max_size, max_delay_s=0.0, max_queue=max_queue)

    @staticmethod
    def _unused(items):  # pragma: no cover - the continuous loop never calls run_batch
        raise RuntimeError("ContinuousBatcher does not run whole batches")

    @property
    def active(self) -> int:
        """Rows (sequences) advancing now."""
        return self._active_size

    # ---------------------------------------------------------------- worker
    def _admit(self) -> list[_Pending] | None:
        with self._cv:
            while not self._queue and not self._active and not self._closed:
                self._cv.wait()
            if self._closed:
                return None
            new = []
            while self._queue and (
                not self._active and not new or self._active_size + self._queue[0].size <= self.max_size
            ):
                pending = self._queue.popleft()
                self._queued_size -= pending.size
                if pending.future.set_running_or_notify_cancel():
                    new.append(pending)
                    self._active_size += pending.size
            return new

    def _leave(self, pending: _Pending, exc: BaseException | None = None) -> None:
        if exc is not None:
            pending.item.abort(exc)
            pending.future.set_exception(exc)
        else:
            pending.future.set_result(pending.item)
        self._active_size -= pending.size

    def _settle(self) -> int:
        """Drop the items that are done or must stop; returns how many left."""
        keep, left = [], 0
        for pending in self._active:
            item = pending.item
            try:
                if item.abandoned:
                    item.control.cancel()
                item.control.check()
            except OneirosError as exc:
                self._leave(pending, exc)
                left += 1
                continue
            if item.finished:
                self._leave(pending)
                left += 1
            else:
                keep.append(pending)
        self._active = keep
        return left

    def _run(self, fn, pendings: list[_Pending]) -> None:
        try:
            fn([p.item for p in pendings])
        except BaseException as exc:  # the runtime failed: every item in the call fails
            log.exception("%s: step failed", self.name)
            for p in pendings:
                self._leave(p, exc)
            self._active = [p for p in self._active if p not in pendings]

    def _loop(self) -> None:
        while True:
            new = self._admit()
            if new is None:
                break
            if new:
                if self.on_admit is not None:
                    self.on_admit(sum(p.size for p in new), time.monotonic() - new[0].enqueued)
                self._active.extend(new)
                self._run(self.start, new)
            left = self._settle()
            if self._active:
                self._run(self.step, list(self._active))
                left += self._settle()
                self.stats.batches += 1
                self.stats.items += self._active_size
                self.stats.largest = max(self.stats.largest, self._active_size)
            if self.on_step is not None:
                self.on_step(self._active_size, left)
        exc = ShuttingDown(f"{self.name} is shutting down")
        for pending in self._active:
            self._leave(pending, exc)
        self._active = []
        with self._cv:
            while self._queue:
                pending = self._queue.popleft()
                self._queued_size -= pending.size
                if pending.future.set_running_or_notify_cancel():
                    pending.item.abort(exc)
                    pending.future.set_exception(exc)

"""Engine thread -> reader hand-off without polling: a one-slot buffer that merges.

``OneSlot`` holds at most one pending value. The producer (an engine thread)
``put``s; when the reader has not taken the previous value yet, the new one is
merged into it (text concatenated, the newest progress kept), so a slow reader
costs bounded memory and never blocks the producer, and a reader that keeps up
gets every value at once. The reader is a coroutine (``await get()``, woken
through ``loop.call_soon_threadsafe``).

``close(error)`` ends the stream: the reader gets what is pending, then
``Closed`` (or ``error``). The pattern is vLLM's ``RequestOutputCollector``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")
V = TypeVar("V")


class Closed(Exception):
    """The producer closed the slot and nothing is pending."""


def _wake(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _wake_all(waiters: list[asyncio.Future]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


_deferred = threading.local()


@contextmanager
def batched_wakes() -> Iterator[None]:
    """Within this block, puts in this thread wake their readers with one
    ``call_soon_threadsafe`` per event loop at the end, not one per put
    (a batcher wraps each step in it: one wake-up of the loop per step)."""
    if getattr(_deferred, "waiters", None) is not None:
        yield
        return
    _deferred.waiters = waiters = {}
    try:
        yield
    finally:
        _deferred.waiters = None
        for loop, batch in waiters.items():
            loop.call_soon_threadsafe(_wake_all, batch)


class OneSlot(Generic[T, V]):
    """One pending value ``V`` built from puts of ``T`` by ``merge(pending_or_None, new)``.

    ``urgent(pending)`` says the reader must not hold the value back (see ``not_before``).
    """

    def __init__(self, merge: Callable[[V | None, T], V], urgent: Callable[[V], bool] | None = None):
        self._merge = merge
        self._urgent = urgent
        self._lock = threading.Lock()
        self._value: V | None = None
        self._has = False
        self._closed = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future | None = None
        self._waiter_loop: asyncio.AbstractEventLoop | None = None
        self._holding = False  # the reader waits for not_before: only urgent values wake it

    # ---------------------------------------------------------------- producer
    def put(self, value: T) -> None:
        with self._lock:
            if self._closed:
                return
            self._value = self._merge(self._value if self._has else None, value)
            self._has = True
            if not self._holding or (self._urgent is not None and self._urgent(self._value)):
                self._wake_locked()

    def close(self, error: BaseException | None = None) -> None:
        """End the stream (idempotent); ``error`` is raised in the reader after what is pending."""
        with self._lock:
            if self._closed:
                return
            self._closed, self._error = True, error
            self._wake_locked()

    @property
    def closed(self) -> bool:
        return self._closed

    def _wake_locked(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            loop = self._waiter_loop
            assert loop is not None
            deferred = getattr(_deferred, "waiters", None)
            if deferred is None:
                loop.call_soon_threadsafe(_wake, waiter)
            else:
                deferred.setdefault(loop, []).append(waiter)

    # ---------------------------------------------------------------- reader
    def _take_locked(self, not_before: float) -> tuple[bool, Any]:
        """(True, value) when a value may be taken now; raises at the end; (False, wait_s)."""
        if self._has:
            urgent = self._closed or (self._urgent is not None and self._urgent(self._value))
            wait = not_before - time.monotonic() if not_before else 0.0
            if urgent or wait <= 0:
                value, self._value, self._has = self._value, None, False
                return True, value
            return False, wait
        if self._closed:
            if self._error is not None:
                raise self._error
            raise Closed()
        return False, None

    async def get(self, not_before: float = 0.0) -> V:
        """The pending value (waiting for one); with ``not_before`` (a ``time.monotonic()``
        value) a non-urgent value is held until then. Raises ``Closed`` or the error at the end."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                ready, wait = self._take_locked(not_before)
                if ready:
                    return wait
                waiter = loop.create_future()
                self._waiter, self._waiter_loop = waiter, loop
                self._holding = wait is not None
            timer = loop.call_later(wait, _wake, waiter) if wait is not None else None
            try:
                await waiter
            finally:
                if timer is not None:
                    timer.cancel()
                with self._lock:
                    if self._waiter is waiter:
                        self._waiter = None
                    self._holding = False

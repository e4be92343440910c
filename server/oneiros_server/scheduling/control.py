"""Cancellation and deadlines for one call, as plain Python (no grpc).

The dataplane creates a ``CallControl`` per call and cancels it when the
transport reports that the client went away or the deadline passed. Cancelling
is an event: the callbacks registered with ``on_cancel`` run at once (a queue
drops the call, freeing its slot), and engines call ``check()`` once per step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from oneiros_server.errors import Cancelled, DeadlineExceeded, OneirosError, ShuttingDown


class CallControl:
    """One call's deadline and cancellation, shared by the dataplane and the engine's threads."""

    def __init__(self, deadline: float | None = None, rpc: str = ""):
        #: ``time.monotonic()`` value after which the work must stop, or None.
        self.deadline = deadline
        #: the RPC this call is, for the metrics engines report about their work
        self.rpc = rpc
        self._cancelled = threading.Event()
        self._reason: type[OneirosError] = Cancelled
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @classmethod
    def with_timeout(cls, seconds: float | None, rpc: str = "") -> CallControl:
        return cls(None if seconds is None else time.monotonic() + seconds, rpc)

    def cancel(self, shutting_down: bool = False, reason: type[OneirosError] | None = None) -> None:
        """Stop the work; runs the ``on_cancel`` callbacks once, in this thread."""
        with self._lock:
            if self._cancelled.is_set():
                return
            self._reason = reason or (ShuttingDown if shutting_down else Cancelled)
            self._cancelled.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` when the call is cancelled (at once if it already is)."""
        with self._lock:
            if not self._cancelled.is_set():
                self._callbacks.append(callback)
                return
        callback()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def error(self) -> OneirosError | None:
        """The error the work must stop with now, or None."""
        if self._cancelled.is_set():
            if self._reason is DeadlineExceeded:
                return DeadlineExceeded("the deadline passed; work stopped")
            return self._reason("the call was cancelled; work stopped")
        if self.deadline is not None and time.monotonic() > self.deadline:
            return DeadlineExceeded("the deadline passed; work stopped")
        return None

    def check(self) -> None:
        """Raise Cancelled, ShuttingDown or DeadlineExceeded if the work must stop."""
        error = self.error()
        if error is not None:
            raise error

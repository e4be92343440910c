"""Cancellation and deadlines for one call, as plain Python (no grpc).

The transport creates a ``CallControl`` per call and wires the client's
cancellation and deadline into it; engines call ``check()`` between steps.
"""

from __future__ import annotations

import threading
import time

from oneiros_server.errors import Cancelled, DeadlineExceeded, ShuttingDown


class CallControl:
    def __init__(self, deadline: float | None = None):
        #: ``time.monotonic()`` value after which the work must stop, or None.
        self.deadline = deadline
        self._cancelled = threading.Event()
        self._reason: type[Exception] = Cancelled

    @classmethod
    def with_timeout(cls, seconds: float | None) -> CallControl:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def cancel(self, shutting_down: bool = False) -> None:
        self._reason = ShuttingDown if shutting_down else Cancelled
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise Cancelled, ShuttingDown or DeadlineExceeded if the work must stop."""
        if self._cancelled.is_set():
            raise self._reason("the call was cancelled; work stopped")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeadlineExceeded("the deadline passed; work stopped")

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if cancelled meanwhile."""
        return self._cancelled.wait(seconds)

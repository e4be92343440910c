"""One way for tests to wait for something that happens on another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], seconds: float = 20.0, interval: float = 0.005) -> bool:
    """Poll ``predicate`` until it is true (returns True) or ``seconds`` pass (returns its last value's truth)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())

"""One loaded (or loadable) version of a model: its state, its engine and the calls it serves.

States follow the wire's ``ModelStatus``: LOADING (warming up beside the version that
serves), READY (takes new calls), UNAVAILABLE (failed, with the reason), UNLOADING
(finishing its calls in flight, then releasing its memory), UNLOADED (on disk only).
Calls hold a version from admission to their end (``acquire``/``release``), so an
unload never pulls an engine out from under a call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oneiros_server.repository.manifest import Manifest

LOADING, READY, UNAVAILABLE, UNLOADING, UNLOADED = "LOADING", "READY", "UNAVAILABLE", "UNLOADING", "UNLOADED"


@dataclass(eq=False)
class ModelVersion:
    """One version of a model: its manifest, its engines once loaded, its state and its calls in flight."""

    name: str
    version: str
    path: Path
    fingerprint: str = ""
    manifest: Manifest | None = None
    engine_set: Any = None  # its ``oneiros_server.engines.base.EngineSet`` once loaded
    families: tuple[str, ...] = ()  # the RPC families its kind serves
    state: str = LOADING
    reason: str = ""  # why it is UNAVAILABLE or UNLOADED
    in_flight: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def ready(self) -> bool:
        return self.state == READY

    def serves(self, family: str) -> bool:
        return family in self.families

    def acquire(self) -> bool:
        """A call starts on this version: True while it is READY (else the caller picks again)."""
        with self._idle:
            if self.state != READY:
                return False
            self.in_flight += 1
            return True

    def retire(self) -> None:
        """Take no new calls (``acquire`` answers False from now on)."""
        with self._idle:
            self.state = UNLOADING

    def release(self) -> None:
        """A call on this version ended."""
        with self._idle:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Block (on a loader thread) until no call holds this version, or ``timeout_s`` passes."""
        with self._idle:
            return self._idle.wait_for(lambda: self.in_flight == 0, timeout=timeout_s)

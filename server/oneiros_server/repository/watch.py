"""Poll mode: a thread that looks at the repository folder every ``repository_poll_s`` seconds."""

from __future__ import annotations

import logging
import threading

from oneiros_server.repository.loader import ModelRepository

log = logging.getLogger(__name__)


class RepositoryWatcher:
    """Calls ``repository.poll()`` on its own thread until ``stop()``."""

    def __init__(self, repository: ModelRepository, interval_s: float):
        self.repository = repository
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="repository-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.repository.poll()
            except Exception:  # noqa: BLE001 - a bad poll is logged; the next one tries again
                log.exception("repository poll failed")

    def stop(self) -> None:
        self._stop.set()
        self.repository.closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

"""One worker process: an ordinary ``OneirosServer`` on the shared ports, its health set by the parent."""

from __future__ import annotations

import logging
import signal
import threading
from multiprocessing.connection import Connection

from oneiros_server.settings import Settings

log = logging.getLogger("oneiros.workers")

# Messages on the pipe between the parent and a worker.
LOADED = "loaded"  # worker -> parent: my models are loaded
SERVING = "serving"  # parent -> workers: every worker is loaded, report SERVING
WAITING = "waiting"  # parent -> workers: a worker is (re)starting, report NOT_SERVING


class _WorkerTag(logging.Filter):
    """Adds ``worker`` (the index) to every log record of this process."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.index
        return True


def run(index: int, settings: Settings, conn: Connection, inherited: list) -> None:
    """Serve until SIGTERM (or the parent goes away), then drain like a single server.

    ``inherited``: what the fork copied from the parent that this worker must not hold
    (the other workers' pipes, the parent's sockets); closed first.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for thing in inherited:
        thing.close()
    for handler in logging.getLogger().handlers:
        handler.addFilter(_WorkerTag(index))

    from oneiros_server.app import OneirosServer  # already imported by the parent: free after the fork
    from oneiros_server.observability import tracing

    tracing.from_environment()  # its exporter's thread is this process's own

    server = OneirosServer(settings, reuse_port=True, on_loaded=lambda: conn.send(LOADED))
    threading.Thread(target=_follow_parent, args=(conn, server, stop), name="worker-control", daemon=True).start()
    server.start(load_in_background=True)
    stop.wait()
    server.stop()


def _follow_parent(conn: Connection, server, stop: threading.Event) -> None:
    from oneiros_server.transport.grpc import health

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone: nobody restarts or drains us
            log.error("parent process gone; draining")
            stop.set()
            return
        if message == SERVING:
            health.mark_loaded(server.health)
        elif message == WAITING:
            health.mark_waiting(server.health)

"""The parent of the worker processes: ports, forks, restarts, SIGTERM, /metrics and health.

It serves no call itself. It reserves the gRPC and HTTP ports with SO_REUSEPORT (so a port
0 becomes one port that every worker binds, and a taken port fails here, once), then forks the
workers before any server exists, as grpc's multiprocessing example does. It waits on the
workers' exits and messages and on its own signals (no polling): a worker that dies is logged
and forked again (after a growing delay when it keeps dying young); SIGTERM is forwarded and
every worker drains; /metrics sums the workers' values (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from oneiros_server.settings import Settings
from oneiros_server.workers import worker
from oneiros_server.workers.cores import Plan, available_cores, plan

log = logging.getLogger("oneiros.workers")
YOUNG_S = 10.0  # a worker that dies sooner than this after its start is restarted after a delay
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 30.0  # that delay, doubled per young death
KILL_MARGIN_S = 10.0  # past the drain's grace, workers still running are killed


def serve_workers(settings: Settings) -> int:
    """Run ``settings.workers`` worker processes (0 = one per core) until SIGTERM; the exit status."""
    own_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    metrics_dir = tempfile.mkdtemp(prefix="oneiros-metrics-") if own_dir else os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for stale in os.listdir(metrics_dir):
        if stale.endswith(".db"):
            os.remove(os.path.join(metrics_dir, stale))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # read when prometheus_client is imported
    layout = plan(settings, available_cores())
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(layout.torch_threads))  # read when torch and numpy are imported
    try:
        return Supervisor(settings, layout, metrics_dir).run()
    except PortTaken as exc:
        print(f"oneiros-server: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if own_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


class PortTaken(RuntimeError):
    """A port setting could not be reserved; the message names it."""


def _reserve(setting: str, host: str, port: int) -> socket.socket:
    """A bound, not listening, SO_REUSEPORT socket: it holds ``port`` for the workers, who bind it too."""
    host = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise PortTaken(
            f"{setting}: {host}:{port} {reason}; choose another with --{setting.replace('_', '-')}"
        ) from None
    return sock


@dataclass(eq=False)
class _Worker:
    index: int
    process: multiprocessing.Process
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    loaded: bool = False


class Supervisor:
    """Starts, watches, restarts and drains the workers of one server."""

    def __init__(self, settings: Settings, layout: Plan, metrics_dir: str):
        self.settings = settings
        self.layout = layout
        self.metrics_dir = metrics_dir
        self.context = multiprocessing.get_context("fork")
        self.workers: dict[int, _Worker] = {}
        self.restart_at: dict[int, float] = {}  # worker index -> when to fork it again
        self.delay: dict[int, float] = {}  # worker index -> its next restart delay
        self.serving = False
        self.draining = False
        self.exit_codes: list[int] = []
        self._kill_at = float("inf")
        self._signal = "SIGTERM"
        self._exporter = None
        self._wake_read, self._wake_write = socket.socketpair()
        self._held: list = []  # what a forked worker must close: reserved ports, /metrics socket

    def run(self) -> int:
        s = self.settings
        reserved = [_reserve("port", s.host, s.port)]
        if s.http_port >= 0:
            reserved.append(_reserve("http_port", s.host, s.http_port))
        self._held = list(reserved)
        ports = [sock.getsockname()[1] for sock in reserved]
        self.worker_settings = s.model_copy(
            update={
                "workers": 1,
                "port": ports[0],
                "http_port": ports[1] if s.http_port >= 0 else -1,
                "metrics_port": -1,
                "torch_threads": self.layout.torch_threads,
                "ort_threads": self.layout.ort_threads,
            }
        )
        # Imported here, after serve_workers set PROMETHEUS_MULTIPROC_DIR; the app is imported
        # once by the parent so that a (re)forked worker starts with it in memory.
        import oneiros_server.app  # noqa: F401
        from oneiros_server.observability import metrics

        self.metrics = metrics
        metrics_port = 0
        if s.metrics_port >= 0:
            self._exporter = metrics.start_multiprocess_exporter(s.host, s.metrics_port, self.metrics_dir)
            self._held.append(self._exporter.socket)
            metrics_port = self._exporter.server_port
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for index in range(self.layout.workers):
            self._start(index)
        log.info(
            "listening",
            extra={
                "address": f"{s.host}:{ports[0]}",
                "http_port": self.worker_settings.http_port,
                "metrics_port": metrics_port,
                "workers": self.layout.workers,
                "torch_threads": self.layout.torch_threads,
                "ort_threads": self.layout.ort_threads,
            },
        )
        while self.workers or (self.restart_at and not self.draining):
            self._step()
        if self._exporter is not None:
            self._exporter.shutdown()
        for sock in reserved:
            sock.close()
        log.info("stopped", extra={"exit_codes": self.exit_codes})
        return 0 if all(code == 0 for code in self.exit_codes) else 1

    def _on_signal(self, signum, _frame) -> None:
        self._signal = signal.Signals(signum).name
        self._wake_write.send(b"!")

    def _step(self) -> None:
        now = time.monotonic()
        due = self._kill_at if self.draining else min(self.restart_at.values(), default=float("inf"))
        timeout = None if due == float("inf") else max(0.0, due - now)
        watched = [self._wake_read, *(w.process.sentinel for w in self.workers.values())]
        watched += [w.conn for w in self.workers.values()]
        ready = set(wait(watched, timeout))
        if self._wake_read in ready:
            self._wake_read.recv(64)
            if not self.draining:
                self._drain()
        for w in list(self.workers.values()):
            if w.conn in ready:
                self._message(w)
            if w.process.sentinel in ready:
                self._exited(w)
        now = time.monotonic()
        if self.draining and now >= self._kill_at:
            for w in self.workers.values():
                log.error("worker still running after the grace period; killed", extra={"worker": w.index})
                w.process.kill()
            self._kill_at = float("inf")
        for index, when in list(self.restart_at.items()):
            if when <= now and not self.draining:
                del self.restart_at[index]
                self._start(index)

    def _start(self, index: int) -> None:
        mine, theirs = self.context.Pipe()
        inherited = [self._wake_read, self._wake_write, mine, *self._held]
        inherited += [w.conn for w in self.workers.values()]
        process = self.context.Process(
            target=worker.run,
            args=(index, self.worker_settings, theirs, inherited),
            name=f"oneiros-worker-{index}",
        )
        process.start()
        theirs.close()
        self.workers[index] = _Worker(index, process, mine)
        log.info("worker started", extra={"worker": index, "pid": process.pid})

    def _message(self, w: _Worker) -> None:
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            return  # it exited; its sentinel says so
        if message == worker.LOADED:
            w.loaded = True
            self._update_health()

    def _exited(self, w: _Worker) -> None:
        w.process.join()
        code = w.process.exitcode if w.process.exitcode is not None else -1
        del self.workers[w.index]
        w.conn.close()
        self.metrics.forget_process(w.process.pid, self.metrics_dir)
        fields = {"worker": w.index, "pid": w.process.pid, "exit_code": code}
        if code < 0:
            fields["signal"] = signal.Signals(-code).name
        if self.draining:
            self.exit_codes.append(code)
            log.info("worker stopped", extra=fields)
            return
        young = time.monotonic() - w.started < YOUNG_S
        delay = min(self.delay.get(w.index, FIRST_DELAY_S), MAX_DELAY_S) if young else 0.0
        self.delay[w.index] = delay * 2 if young else FIRST_DELAY_S
        self.restart_at[w.index] = time.monotonic() + delay
        log.error("worker died; restarting it", extra=fields | {"restart_in_s": delay})
        self.metrics.WORKER_RESTARTS.inc()
        self._update_health()

    def _update_health(self) -> None:
        """SERVING on every worker only while all of them are up and loaded."""
        every = len(self.workers) == self.layout.workers and all(w.loaded for w in self.workers.values())
        every = every and not self.draining
        if every == self.serving:
            return
        self.serving = every
        log.info("every worker serving" if every else "waiting for a worker", extra={"workers": len(self.workers)})
        for w in self.workers.values():
            try:
                w.conn.send(worker.SERVING if every else worker.WAITING)
            except OSError:
                pass  # it is exiting; its sentinel says so

    def _drain(self) -> None:
        self.draining = True
        self.restart_at.clear()
        log.info("draining", extra={"signal": self._signal, "workers": len(self.workers)})
        for w in self.workers.values():
            w.process.terminate()  # SIGTERM: each worker drains as a single server does
        self._kill_at = time.monotonic() + self.settings.grace_period_s + KILL_MARGIN_S

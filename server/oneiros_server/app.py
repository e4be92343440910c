"""Wiring: the grpc.aio server on its event loop, its services, model loading and graceful shutdown.

One event loop (on a thread of its own, so that ``start()`` and ``stop()`` can be
called from plain code and tests) owns every connection; engines run on their own
threads and hand results back to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import threading
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from oneiros.v1 import oneiros_pb2, oneiros_pb2_grpc
from oneiros_server.dataplane import Dataplane, ServerState
from oneiros_server.engines.registry import Registry, default_registry
from oneiros_server.observability import metrics, tracing
from oneiros_server.repository import ModelRepository, RepositoryWatcher
from oneiros_server.settings import Settings
from oneiros_server.transport.grpc import auth, health
from oneiros_server.transport.grpc.repository import ModelRepositoryServicer
from oneiros_server.transport.grpc.servicer import OneirosServicer
from oneiros_server.transport.http.server import HttpServer, bind, start_http, start_metrics_http
from oneiros_server.transport.policy import Tokens, load_tokens

log = logging.getLogger("oneiros.server")


def _server_credentials(s: Settings) -> grpc.ServerCredentials:
    client_ca = s.tls_client_ca.read_bytes() if s.tls_client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(s.tls_key.read_bytes(), s.tls_cert.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


class PortUnavailable(RuntimeError):
    """A port setting could not be bound (in use, or a bad address); the message is one line naming it."""


@contextlib.contextmanager
def _binding(setting: str, host: str, port: int):
    """Turn a failed bind of ``setting`` into one PortUnavailable line that names the setting."""
    how = f"choose another with --{setting.replace('_', '-')} or ONEIROS_{setting.upper()} (0 = any free port)"
    try:
        yield
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise PortUnavailable(f"{setting}: {host}:{port} {reason}; {how}") from None


class OneirosServer:
    """A running Oneiros server. ``start()`` binds and returns the port; models load after.

    ``registry`` says which engines serve which kinds of model (default: the kinds Oneiros ships).
    As one of several worker processes (``oneiros_server.workers``): ``reuse_port`` shares the
    ports (SO_REUSEPORT), and ``on_loaded``, when given, is called once the models are loaded
    instead of reporting SERVING: the parent does that when every worker is loaded.
    """

    def __init__(
        self,
        settings: Settings,
        registry: Registry | None = None,
        reuse_port: bool = False,
        on_loaded: Callable[[], None] | None = None,
    ):
        self.settings = settings
        self.reuse_port = reuse_port
        self.on_loaded = on_loaded
        self.repository = ModelRepository(settings, registry or default_registry())
        self.state = ServerState(self.repository)
        self.plane = Dataplane(self.state)
        self.loop = asyncio.new_event_loop()
        self.health = health.Health(self.loop)
        self.state.observers.append(metrics.observe_call)
        self.port = 0
        self.metrics_port = 0
        self.http_port = 0  # the HTTP/JSON transport's bound port (0 when off)
        self._http: HttpServer | None = None
        self._watcher: RepositoryWatcher | None = None
        self._health_names: set[str] = set()
        self._metrics_http: HttpServer | None = None
        self._grpc: grpc.aio.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def _call(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start_grpc(self) -> int:
        s = self.settings
        options = [
            ("grpc.max_receive_message_length", s.max_message_bytes),
            ("grpc.max_send_message_length", s.max_message_bytes),
            ("grpc.so_reuseport", 1 if self.reuse_port else 0),
            # Clients (behind load balancers) may ping idle connections this often.
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", int(s.keepalive_min_ping_s * 1000)),
            ("grpc.http2.max_ping_strikes", 0),
            # A call grpc core has accepted but grpc.aio has not yet handed to a handler is
            # cancelled after this long (core's default: 30 s). grpc.aio takes one new call per
            # event-loop round trip, so under a heavy streaming load (1,024 SampleStreams) calls
            # wait there for tens of seconds and ended CANCELLED; their own deadlines still apply.
            ("grpc.server_max_unrequested_time_in_server", s.grpc_pending_call_timeout_s),
        ]
        tokens = Tokens(load_tokens(s.auth_tokens.get_secret_value(), s.auth_tokens_file))
        self._auth = tokens.enabled
        self._tokens = tokens
        # Admission (max_concurrent_rpcs, with a retry hint) is the dataplane's; grpc's own
        # limit is only a backstop well above it.
        self._grpc = grpc.aio.server(
            options=options,
            maximum_concurrent_rpcs=s.max_concurrent_rpcs * 2,
            interceptors=tracing.grpc_interceptors()
            + ([auth.BearerTokenInterceptor(tokens)] if tokens.enabled else []),
        )
        oneiros_pb2_grpc.add_OneirosServicer_to_server(OneirosServicer(self.plane), self._grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, self._grpc)
        service_names = [
            oneiros_pb2.DESCRIPTOR.services_by_name["Oneiros"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        self._admin_tokens = Tokens(load_tokens(s.admin_tokens.get_secret_value(), None))
        if self._admin_tokens.enabled:  # the operators' service exists only with admin tokens
            oneiros_pb2_grpc.add_ModelRepositoryServicer_to_server(
                ModelRepositoryServicer(self.plane.admin, self._admin_tokens), self._grpc
            )
            service_names.append(oneiros_pb2.DESCRIPTOR.services_by_name["ModelRepository"].full_name)
        reflection.enable_server_reflection(service_names, self._grpc)
        address = f"{s.host}:{s.port}"
        with _binding("port", s.host, s.port):
            if s.port:  # ask the OS first: grpc would log its own multi-line error
                bind(s.host.strip("[]"), s.port, self.reuse_port).close()
            try:
                if s.tls_cert is not None:
                    port = self._grpc.add_secure_port(address, _server_credentials(s))
                else:
                    port = self._grpc.add_insecure_port(address)
            except RuntimeError:  # "Failed to bind", whatever the cause
                port = 0
            if port == 0:
                raise OSError(errno.EADDRNOTAVAIL, "in use, or not an address of this machine")
        await self._grpc.start()
        return port

    def start(self, load_in_background: bool = False) -> int:
        """Start the event loop and the server; returns the bound port (models load after)."""
        s = self.settings
        self._thread = threading.Thread(target=self.loop.run_forever, name="event-loop", daemon=True)
        self._thread.start()
        try:
            self.port = self._call(self._start_grpc(), timeout=60)
            if s.http_port >= 0:
                with _binding("http_port", s.host, s.http_port):
                    self._http = self._call(
                        start_http(self.plane, s, self._tokens, self._admin_tokens, self.reuse_port), timeout=60
                    )
                self.http_port = self._http.port
            if s.metrics_port >= 0:
                with _binding("metrics_port", s.host, s.metrics_port):
                    self._metrics_http = self._call(start_metrics_http(s), timeout=60)
                self.metrics_port = self._metrics_http.port
        except BaseException:
            if self._grpc is not None:
                self._call(self._stop_transports(0), timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            raise
        log.info(
            "listening",
            extra={
                "address": f"{s.host}:{self.port}",
                "metrics_port": self.metrics_port,
                "http_port": self.http_port,
                "tls": s.tls_cert is not None,
                "mtls": s.tls_client_ca is not None,
                "auth": self._auth,
            },
        )
        if load_in_background:
            threading.Thread(target=self.load_models, name="model-loader", daemon=True).start()
        else:
            self.load_models()
        return self.port

    def load_models(self) -> None:
        """The first loads (by control mode), then health and metrics follow every change."""
        s, repo = self.settings, self.repository
        repo.listeners.append(self._repository_changed)
        repo.load_all(only=tuple(s.load_model) if s.model_control_mode == "explicit" else ())
        if s.model_control_mode == "explicit" and not s.load_model:
            repo.on_disk = {}  # nothing asked for yet: load through the ModelRepository API
        self.state.loaded.set()
        self._repository_changed()
        if self.on_loaded is None:
            health.mark_loaded(self.health)
        else:
            self.on_loaded()
        ready = sum(m.ready for m in repo.models)
        log.info("models loaded", extra={"ready": ready, "total": len(repo.models), "mode": s.model_control_mode})
        if s.model_control_mode == "poll" and not self.state.draining.is_set():
            self._watcher = RepositoryWatcher(repo, s.repository_poll_s)
            self._watcher.start()

    def _repository_changed(self) -> None:
        """Health (per family and per model) and the readiness gauge follow the repository."""
        if self.state.draining.is_set() or not self.state.loaded.is_set():
            return
        self._health_names = health.mark_models(self.health, self.repository, self._health_names)
        metrics.set_known_models(m.name for m in self.repository.index())
        for model in self.repository.models:
            metrics.MODEL_READY.labels(model.name, model.version).set(1 if model.ready else 0)

    def stop(self, grace: float | None = None) -> None:
        """Drain: health NOT_SERVING, new calls UNAVAILABLE, in-flight calls get ``grace`` seconds."""
        if self._stopped.is_set() or self._grpc is None:
            return
        grace = self.settings.grace_period_s if grace is None else grace
        log.info("draining", extra={"grace_s": grace})
        self.state.draining.set()
        health.mark_draining(self.health)
        if self._watcher is not None:
            self._watcher.stop()  # a load still running is abandoned: its engine is closed once warm
        self.repository.closing.set()
        self._call(self._stop_transports(grace))
        self.repository.close()
        tracing.flush()
        if self._metrics_http is not None:
            self._call(self._metrics_http.stop(0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._stopped.set()
        log.info("stopped")

    async def _stop_transports(self, grace: float) -> None:
        http = self._http.stop(grace) if self._http is not None else asyncio.sleep(0)
        await asyncio.gather(self._grpc.stop(grace), http)

    def wait(self) -> None:
        self._stopped.wait()


def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully (a signal during start-up counts too)."""
    tracing.from_environment()
    server = OneirosServer(settings)
    stop_requested = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal received", extra={"signal": signal.Signals(signum).name})
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start(load_in_background=True)
    stop_requested.wait()
    server.stop()

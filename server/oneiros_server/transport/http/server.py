"""uvicorn serving the HTTP app on the gRPC server's event loop, on a port of its own."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from importlib import metadata

import uvicorn
from prometheus_client import make_asgi_app

from oneiros_server.dataplane import Dataplane
from oneiros_server.observability import metrics, tracing
from oneiros_server.settings import Settings
from oneiros_server.transport.http.app import build_app
from oneiros_server.transport.http.wire import WireLimits, protocol
from oneiros_server.transport.policy import Tokens

log = logging.getLogger("oneiros.http")
STARTUP_TIMEOUT_S = 30.0


def _version() -> str:
    try:
        return metadata.version("oneiros")
    except metadata.PackageNotFoundError:
        return "0"


async def start_http(
    plane: Dataplane,
    settings: Settings,
    tokens: Tokens,
    admin_tokens: Tokens | None = None,
    reuse_port: bool = False,
) -> HttpServer:
    """Build the app over ``plane`` and serve it on ``settings.http_port`` (same TLS and tokens as gRPC).

    ``reuse_port``: share the port with other worker processes (SO_REUSEPORT)."""
    s = settings
    tls = (s.tls_cert, s.tls_key, s.tls_client_ca) if s.tls_cert is not None else None
    app = build_app(plane, tokens, s, _version(), admin_tokens)
    server = HttpServer(app, s.host, s.http_port, s.grace_period_s, tls, wire_limits(s), reuse_port)
    await server.start()
    return server


async def start_metrics_http(settings: Settings) -> HttpServer:
    """Prometheus text on ``settings.metrics_port``, served on the event loop (no thread per
    connection), with the same header limits and timeouts as the HTTP port."""
    s = settings
    app = make_asgi_app(metrics.REGISTRY)
    server = HttpServer(app, s.host, s.metrics_port, 0.0, None, wire_limits(s))
    await server.start()
    return server


def wire_limits(s: Settings) -> WireLimits:
    return WireLimits(s.http_read_timeout_s, s.http_max_header_bytes, s.http_max_headers)


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket on ``host:port`` (0 = any free port); IPv6 for an IPv6 host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048, reuse_port=reuse_port)
    # Accepted sockets inherit this. asyncio sets it only on sockets made with proto=IPPROTO_TCP, so
    # without it every answer written in two parts (head, body) waits out Nagle + delayed ACK (~40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class HttpServer:
    """One uvicorn server; ``start()`` and ``stop()`` run on the event loop."""

    def __init__(
        self,
        app,
        host: str,
        port: int,
        grace_s: float,
        tls: tuple | None = None,
        limits: WireLimits | None = None,
        reuse_port: bool = False,
    ):
        self.app = app
        self.limits = limits or WireLimits()
        self.host = host
        self.requested_port = port
        self.grace_s = grace_s
        self.tls = tls  # (cert, key, client CA or None)
        self.reuse_port = reuse_port
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> int:
        """Bind, start serving and return the bound port."""
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # "listening" (app.py) says it once
        sock = bind(self.host, self.requested_port, self.reuse_port)
        self.port = sock.getsockname()[1]
        options: dict = {}
        if self.tls is not None:
            cert, key, client_ca = self.tls
            options = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
            if client_ca is not None:
                options |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
        config = uvicorn.Config(
            tracing.wrap_asgi(self.app),
            lifespan="off",
            log_config=None,
            http=protocol(self.limits),  # header time, size and count limits (wire.py)
            access_log=False,
            **options,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # raises what failed
                    raise RuntimeError(f"the HTTP server on {self.host}:{self.port} did not start")
                await asyncio.sleep(0.01)
        return self.port

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop accepting, let in-flight requests finish within ``grace_s``, then close."""
        if self._server is None or self._task is None:
            return
        grace = self.grace_s if grace_s is None else grace_s
        self._server.config.timeout_graceful_shutdown = max(1, round(grace))
        self._server.should_exit = True
        try:
            async with asyncio.timeout(grace + 5):
                await self._task
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
        close = getattr(getattr(self.app, "state", None), "close", None)
        if close is not None:
            close()  # the app's body pool

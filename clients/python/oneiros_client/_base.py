"""What Client and AsyncClient share: construction from keyword arguments, deadlines, retry delays."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import grpc

from ._channel import DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TARGET, ChannelConfig, RetryPolicy
from .errors import OneirosError

DEFAULT: Any = object()  # "use the client's timeout"


class ClientBase:
    """Channel settings, stub and call options; subclasses open the sync or asyncio channel."""

    _stub: Any  # the Oneiros stub, set by ``_connect``
    _health: Any  # the grpc.health.v1 check, set by ``_connect``

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float | None = None,
        tls: bool = False,
        root_certificates: bytes | str | os.PathLike[str] | None = None,
        client_certificate: bytes | str | os.PathLike[str] | None = None,
        client_key: bytes | str | os.PathLike[str] | None = None,
        server_name: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        retries: int = 3,
        retry_policy: RetryPolicy | None = None,
        keepalive_s: float | None = None,
        keepalive_timeout_s: float = 20.0,
        keepalive_without_calls: bool = False,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        load_balancing: str | None = None,
        wait_for_ready: bool = False,
        options: Sequence[tuple[str, object]] = (),
    ):
        """Connect lazily to ``target`` (nothing is sent until the first call).

        Args:
            target: ``host:port``, or ``dns:///host:port`` to resolve every address
                of a name (with ``load_balancing="round_robin"``, calls spread over
                all of them, e.g. the pods behind a Kubernetes headless Service).
            timeout: default deadline in seconds for each call, retries included
                (``None`` = no deadline); every method also takes ``timeout=``.
            tls: use TLS with the system's root certificates (or ``root_certificates``).
            root_certificates: PEM bytes or path of the CA that signed the server.
            client_certificate, client_key: PEM bytes or paths, for mutual TLS.
            server_name: override the name checked in the server's certificate.
            credentials: ready-made ``grpc.ChannelCredentials`` (implies TLS).
            token: sent as ``authorization: Bearer <token>`` on every call.
            retries: extra attempts for UNAVAILABLE, and for RESOURCE_EXHAUSTED that
                carries the server's retry hint (a full queue), with exponential
                backoff and jitter, never sooner than that hint (``retry_policy`` for full control; ``retries=0`` disables).
            keepalive_s: send HTTP/2 keepalive pings after this many idle seconds
                (``None`` = off); the server must allow pings that often.
            keepalive_timeout_s: drop the connection when a ping is not answered in time.
            keepalive_without_calls: ping idle connections too (detects dead pods early;
                the server must permit pings without calls at that rate, or it sends GOAWAY).
            max_message_bytes: largest message sent or received (default 64 MiB).
            load_balancing: gRPC policy name, e.g. ``"round_robin"`` (default: pick_first).
            wait_for_ready: queue calls while the server is unreachable (until the
                deadline) instead of failing at once with UNAVAILABLE.
            options: extra ``(key, value)`` gRPC channel arguments.
        """
        self.config = ChannelConfig(
            target=target,
            tls=tls,
            root_certificates=root_certificates,
            client_certificate=client_certificate,
            client_key=client_key,
            server_name=server_name,
            credentials=credentials,
            token=token,
            keepalive_s=keepalive_s,
            keepalive_timeout_s=keepalive_timeout_s,
            keepalive_without_calls=keepalive_without_calls,
            max_message_bytes=max_message_bytes,
            load_balancing=load_balancing,
            extra_options=tuple(options),
        )
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(retries=retries)
        self._metadata = self.config.metadata()
        self._wait_for_ready = wait_for_ready
        self._connect()

    def _connect(self) -> None:
        """Set up the channel (the sync client at once; the asyncio client per event loop)."""
        raise NotImplementedError

    def _deadline(self, timeout: float | None) -> float | None:
        timeout = self.timeout if timeout is DEFAULT else timeout
        return None if timeout is None else time.monotonic() + timeout

    def _call_options(self, deadline: float | None) -> dict[str, Any]:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        return {"timeout": timeout, "metadata": self._metadata, "wait_for_ready": self._wait_for_ready}

    def _retry_delay(self, err: OneirosError, attempt: int, deadline: float | None) -> float | None:
        """Seconds to wait before retry ``attempt + 1``; None when the call must fail now."""
        if not self.retry_policy.should_retry(err, attempt):
            return None
        delay = self.retry_policy.delay(err, attempt)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return None
        return delay

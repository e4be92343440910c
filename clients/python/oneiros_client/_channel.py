"""Channel configuration and the retry policy shared by the sync and asyncio clients."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field

import grpc

from .errors import OneirosError

DEFAULT_TARGET = "localhost:50051"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def _read(value: bytes | str | os.PathLike[str] | None) -> bytes | None:
    """PEM contents given as bytes or as a file path."""
    if value is None or isinstance(value, bytes):
        return value
    with open(value, "rb") as f:
        return f.read()


@dataclass(frozen=True)
class ChannelConfig:
    """How to reach the server; see :class:`oneiros_client.Client` for the meaning of each field."""

    target: str = DEFAULT_TARGET
    tls: bool = False
    root_certificates: bytes | str | os.PathLike[str] | None = None
    client_certificate: bytes | str | os.PathLike[str] | None = None
    client_key: bytes | str | os.PathLike[str] | None = None
    server_name: str | None = None
    credentials: grpc.ChannelCredentials | None = None
    token: str | None = None
    keepalive_s: float | None = None
    keepalive_timeout_s: float = 20.0
    keepalive_without_calls: bool = False
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    load_balancing: str | None = None
    extra_options: tuple[tuple[str, object], ...] = field(default_factory=tuple)

    @property
    def secure(self) -> bool:
        return self.tls or any(
            v is not None for v in (self.credentials, self.root_certificates, self.client_certificate)
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        if self.credentials is not None:
            return self.credentials
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.root_certificates),
            private_key=_read(self.client_key),
            certificate_chain=_read(self.client_certificate),
        )

    def options(self) -> list[tuple[str, object]]:
        opts: list[tuple[str, object]] = [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
        ]
        if self.keepalive_s is not None:
            opts += [
                ("grpc.keepalive_time_ms", int(self.keepalive_s * 1000)),
                ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout_s * 1000)),
                ("grpc.keepalive_permit_without_calls", int(self.keepalive_without_calls)),
                ("grpc.http2.max_pings_without_data", 0),
            ]
        if self.load_balancing:
            config: dict[str, object] = {"loadBalancingConfig": [{self.load_balancing: {}}]}
            opts.append(("grpc.service_config", json.dumps(config)))
        if self.server_name:
            opts.append(("grpc.ssl_target_name_override", self.server_name))
        opts.extend(self.extra_options)
        return opts

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter for transient failures.

    ``retries`` extra attempts are made for UNAVAILABLE, and for RESOURCE_EXHAUSTED
    only when the server attached a retry hint (``google.rpc.RetryInfo``: its queue
    was full). Other RESOURCE_EXHAUSTED errors (a message or its metadata too large)
    would fail the same way again, so they are raised at once. Delay ``i`` (from 0) is uniform in
    ``[0, min(max_backoff_s, initial_backoff_s * multiplier**i)]``, but never
    shorter than the server's retry hint. Streams are only retried when they
    fail before their first message.
    """

    retries: int = 3
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 5.0
    multiplier: float = 2.0
    codes: frozenset[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})

    def should_retry(self, err: OneirosError, attempt: int) -> bool:
        if attempt >= self.retries or err.code not in self.codes:
            return False
        return err.code != grpc.StatusCode.RESOURCE_EXHAUSTED or err.retry_after_s is not None

    def delay(self, err: OneirosError, attempt: int, rng: random.Random | None = None) -> float:
        cap = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier**attempt)
        d = (rng or random).uniform(0, cap)
        if err.retry_after_s is not None:
            d = max(d, err.retry_after_s)
        return d

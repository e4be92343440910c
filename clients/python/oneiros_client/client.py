"""The synchronous Oneiros client: its channel here, its RPC methods in ``_methods_sync.py`` (generated)."""

from __future__ import annotations

import grpc

from oneiros.v1 import oneiros_pb2_grpc

from ._channel import ChannelConfig
from ._methods_sync import ClientMethods
from ._requests import HEALTH_CHECK
from .errors import Unavailable


class Client(ClientMethods):
    """A blocking client for every Oneiros RPC (arguments: see ``__init__``).

    Use it as a context manager, or call :meth:`close`.
    """

    def _connect(self) -> None:
        self._channel = self._open_channel(self.config)
        self._stub = oneiros_pb2_grpc.OneirosStub(self._channel)
        self._health = self._channel.unary_unary(HEALTH_CHECK)

    @staticmethod
    def _open_channel(config: ChannelConfig) -> grpc.Channel:
        if config.secure:
            return grpc.secure_channel(config.target, config.channel_credentials(), config.options())
        return grpc.insecure_channel(config.target, config.options())

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def channel(self) -> grpc.Channel:
        """The underlying gRPC channel (for other stubs on the same connection)."""
        return self._channel

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the channel is connected; raise Unavailable after ``timeout`` seconds."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise Unavailable(
                grpc.StatusCode.UNAVAILABLE, f"{self.config.target} not reachable within {timeout:g} s"
            ) from None

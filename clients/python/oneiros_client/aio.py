"""The asyncio Oneiros client (``grpc.aio``): the same methods as :class:`~oneiros_client.Client`, awaited.

Its channels are here; its RPC methods are in ``_methods_async.py`` (generated).
"""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio

from ._loop_channels import LazyStub, LoopChannels
from ._methods_async import AsyncClientMethods
from .errors import Unavailable


class AsyncClient(AsyncClientMethods):
    """An asyncio client for every Oneiros RPC; arguments as :class:`~oneiros_client.Client`.

    Unary methods are coroutines; ``*_stream`` methods return async iterators::

        async with AsyncClient("localhost:50051") as client:
            async for chunk in client.sample_stream("In the beginning", temperature=0.5):
                print(chunk.text, end="")

    The client may be made anywhere (no event loop needed) and used from several
    ``asyncio.run`` calls: each running loop gets its own channel on first use,
    closed by :meth:`close` or when that loop shuts down.
    """

    def _connect(self) -> None:
        self._channels = LoopChannels(self._open_channel)
        self._stub = LazyStub(self._channels)
        self._health = LazyStub(self._channels)

    def _open_channel(self) -> grpc.aio.Channel:
        config = self.config
        if config.secure:
            return grpc.aio.secure_channel(config.target, config.channel_credentials(), config.options())
        return grpc.aio.insecure_channel(config.target, config.options())

    async def close(self) -> None:
        """Close the running loop's channel; calls in flight are cancelled."""
        await self._channels.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def channel(self) -> grpc.aio.Channel:
        """The running loop's ``grpc.aio`` channel (opened now if needed; call inside the loop)."""
        return self._channels.current().channel

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the channel is connected; raise Unavailable after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.channel.channel_ready(), timeout)
        except TimeoutError:
            raise Unavailable(
                grpc.StatusCode.UNAVAILABLE, f"{self.config.target} not reachable within {timeout:g} s"
            ) from None

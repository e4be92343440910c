"""One ``grpc.aio`` channel per running event loop, opened on first use, closed with its loop.

A ``grpc.aio`` channel belongs to the loop it was made in, so :class:`AsyncClient`
opens none at construction: the first call inside a running loop opens that loop's
channel, and each ``asyncio.run`` gets its own. The channel is closed by
:meth:`LoopChannels.close`, or when its loop shuts down (``asyncio.run`` closes open
async generators before closing the loop; a tiny generator owns each channel).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import grpc.aio

from oneiros.v1 import oneiros_pb2_grpc

from ._requests import HEALTH_CHECK


async def _owner(channel: grpc.aio.Channel) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await channel.close()


@dataclass
class _Connection:
    channel: grpc.aio.Channel
    stub: oneiros_pb2_grpc.OneirosStub
    health: Any
    owner: AsyncGenerator[None, None]
    started: asyncio.Future[None]


class LoopChannels:
    """The channels of one client, keyed by event loop."""

    def __init__(self, open_channel: Callable[[], grpc.aio.Channel]):
        self._open = open_channel
        self._by_loop: dict[asyncio.AbstractEventLoop, _Connection] = {}

    def current(self) -> _Connection:
        """The running loop's connection, opened now if it has none (needs a running loop)."""
        loop = asyncio.get_running_loop()
        conn = self._by_loop.get(loop)
        if conn is None:
            for old in [other for other in self._by_loop if other.is_closed()]:
                del self._by_loop[old]
            channel = self._open()
            owner = _owner(channel)
            # Start the owner now so the loop tracks it: its shutdown then closes the channel.
            started = asyncio.ensure_future(owner.__anext__())
            conn = _Connection(
                channel, oneiros_pb2_grpc.OneirosStub(channel), channel.unary_unary(HEALTH_CHECK), owner, started
            )
            self._by_loop[loop] = conn
        return conn

    async def close(self) -> None:
        """Close the running loop's channel (calls in flight are cancelled)."""
        conn = self._by_loop.pop(asyncio.get_running_loop(), None)
        if conn is None:
            return
        if not conn.started.done():
            await conn.started
        if conn.started.cancelled():  # the owner never ran: close the channel directly
            await conn.channel.close()
        else:
            await conn.owner.aclose()


class LazyStub:
    """``stub.Method(request, ...)`` on the running loop's channel, resolved at call time."""

    def __init__(self, channels: LoopChannels):
        self._channels = channels

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # the health check
        return self._channels.current().health(*args, **kwargs)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self._channels.current().stub, name)(*args, **kwargs)

        return call

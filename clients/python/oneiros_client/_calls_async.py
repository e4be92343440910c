"""Unary and server-streaming calls with deadline-bounded retries.

Unary calls retry whatever ``RetryPolicy`` allows; streams only while nothing
has been received. Closing a stream early cancels the call on the server.
The blocking module is this one with ``async`` and ``await`` taken out (``make sdk``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

import grpc

from ._base import ClientBase
from .errors import from_rpc_error

T = TypeVar("T")


async def unary(client: ClientBase, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
    """``method(request)``, retried while the client's policy and deadline allow."""
    deadline = client._deadline(timeout)
    attempt = 0
    while True:
        try:
            return await method(request, **client._call_options(deadline))
        except grpc.RpcError as e:
            err = from_rpc_error(e)
            delay = client._retry_delay(err, attempt, deadline)
            if delay is None:
                raise err from None
            await asyncio.sleep(delay)
            attempt += 1


async def stream(
    client: ClientBase,
    method: Callable[..., Any],
    request: Any,
    convert: Callable[[Any], T | None],
    timeout: float | None,
) -> AsyncGenerator[T, None]:
    """The converted messages of ``method(request)`` (None from ``convert`` is skipped); retried until the first."""
    deadline = client._deadline(timeout)
    attempt = 0
    while True:
        call = method(request, **client._call_options(deadline))
        received = False
        try:
            async for message in call:
                received = True
                item = convert(message)
                if item is not None:
                    yield item
            return
        except grpc.RpcError as e:
            err = from_rpc_error(e)
            delay = None if received else client._retry_delay(err, attempt, deadline)
            if delay is None:
                raise err from None
            await asyncio.sleep(delay)
            attempt += 1
        finally:
            call.cancel()  # no-op when finished; stops the server's work when the iterator is closed early

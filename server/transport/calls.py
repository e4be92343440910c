"""How every gRPC call runs on the event loop: request id, admission and the call's life
(``Dataplane``), and one mapping of errors to a rich status."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.transport.status import to_status

_NO_DEADLINE = 1e8  # time_remaining() of a call without a deadline is huge, not None


def _request_id(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:64]
    return uuid.uuid4().hex[:16]


def _timeout(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return remaining if remaining is not None and remaining < _NO_DEADLINE else None


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    status = to_status(exc)
    await context.abort(status.code, status.details, status.trailing_metadata)


class GrpcCalls:
    """Runs unary and server-streaming RPCs through the dataplane."""

    def __init__(self, plane: Dataplane):
        self.plane = plane

    async def _open(self, rpc: str, model: str, context: grpc.aio.ServicerContext) -> Call:
        rid = _request_id(context)
        await context.send_initial_metadata((("x-request-id", rid),))
        return self.plane.open(rpc, model, rid, _timeout(context))

    async def unary(
        self, rpc: str, model: str, context: grpc.aio.ServicerContext, run: Callable[[Call], Awaitable[Any]]
    ) -> Any:
        try:
            call = await self._open(rpc, model, context)
        except Exception as exc:  # refused at admission
            await _abort(context, exc)
        try:
            return await self.plane.unary(call, run)
        except Exception as exc:  # every failure is mapped; bugs become INTERNAL
            await _abort(context, exc)

    async def stream(
        self, rpc: str, model: str, context: grpc.aio.ServicerContext, run: Callable[[Call], AsyncIterator[Any]]
    ) -> AsyncIterator[Any]:
        try:
            call = await self._open(rpc, model, context)
        except Exception as exc:
            await _abort(context, exc)
            return
        try:
            async for message in self.plane.stream(call, run):
                yield message
        except Exception as exc:
            await _abort(context, exc)

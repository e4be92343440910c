"""How every gRPC call runs on the event loop: request id, admission and the call's life
(``Dataplane``), and one mapping of errors to a rich status."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.transport.grpc.status import to_status

_NO_DEADLINE = 1e8  # time_remaining() of a call without a deadline is huge, not None


def _request_id(context: grpc.aio.ServicerContext) -> tuple[str, bool]:
    """The caller's ``x-request-id`` (True) or a new one (False)."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:64], True
    return uuid.uuid4().hex[:16], False


def _timeout(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return remaining if remaining is not None and remaining < _NO_DEADLINE else None


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    status = to_status(exc)
    kept = tuple(context.trailing_metadata() or ())  # the made-up request id, if any
    await context.abort(status.code, status.details, kept + tuple(status.trailing_metadata))


class GrpcCalls:
    """Runs unary and server-streaming RPCs through the dataplane."""

    def __init__(self, plane: Dataplane):
        self.plane = plane

    async def _open(self, rpc: str, model: str, context: grpc.aio.ServicerContext, stream: bool) -> Call:
        rid, given = _request_id(context)
        metadata = (("x-request-id", rid),)
        if given or stream:
            await context.send_initial_metadata(metadata)
        else:  # a made-up id rides with the status: no extra message on the hot path
            context.set_trailing_metadata(metadata)
        return self.plane.open(rpc, model, rid, _timeout(context))

    async def unary(
        self, rpc: str, model: str, context: grpc.aio.ServicerContext, run: Callable[[Call], Awaitable[Any]]
    ) -> Any:
        try:
            call = await self._open(rpc, model, context, stream=False)
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
            call = await self._open(rpc, model, context, stream=True)
        except Exception as exc:
            await _abort(context, exc)
            return
        try:
            async for message in self.plane.stream(call, run):
                yield message
        except Exception as exc:
            await _abort(context, exc)

"""How every gRPC call runs on the event loop: request id, admission and the call's life
(``Dataplane``), the RPC table's handler, and one mapping of errors to a rich status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from google.protobuf.message import Message

from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.transport.grpc.status import to_status
from oneiros_server.transport.policy import request_id
from oneiros_server.transport.rpcs import Rpc

_NO_DEADLINE = 1e8  # time_remaining() of a call without a deadline is huge, not None


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key and value:
            return str(value)
    return None


def _timeout(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return remaining if remaining is not None and remaining < _NO_DEADLINE else None


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    status = to_status(exc)
    kept = tuple(context.trailing_metadata() or ())  # the made-up request id, if any
    await context.abort(status.code, status.details, kept + tuple(status.trailing_metadata))


class GrpcCalls:
    """Builds the servicer's methods: each admits its call and runs the table's handler through the dataplane."""

    def __init__(self, plane: Dataplane):
        self.plane = plane

    async def _open(self, rpc: str, model: str, context: grpc.aio.ServicerContext, stream: bool) -> Call:
        rid, given = request_id(_metadata(context, "x-request-id"))
        metadata = (("x-request-id", rid),)
        if given or stream:
            await context.send_initial_metadata(metadata)
        else:  # a made-up id rides with the status: no extra message on the hot path
            context.set_trailing_metadata(metadata)
        return self.plane.open(rpc, model, rid, _timeout(context))

    def unary_method(self, rpc: Rpc) -> Callable[[Message, grpc.aio.ServicerContext], Awaitable[Message]]:
        plane, name, model_of, handler = self.plane, rpc.rpc, rpc.model, rpc.handler

        async def method(request: Message, context: grpc.aio.ServicerContext) -> Message:
            try:
                call = await self._open(name, model_of(request), context, stream=False)
            except Exception as exc:  # refused at admission
                await _abort(context, exc)
            try:
                return await plane.unary(call, lambda c: handler(plane, c, request))
            except Exception as exc:  # every failure is mapped; bugs become INTERNAL
                await _abort(context, exc)

        return method

    def stream_method(self, rpc: Rpc) -> Callable[[Message, grpc.aio.ServicerContext], AsyncIterator[Message]]:
        plane, name, model_of, handler = self.plane, rpc.stream_rpc, rpc.model, rpc.stream_handler
        assert handler is not None

        async def method(request: Message, context: grpc.aio.ServicerContext) -> AsyncIterator[Message]:
            try:
                call = await self._open(name, model_of(request), context, stream=True)
            except Exception as exc:
                await _abort(context, exc)
                return
            try:
                async for message in plane.stream(call, lambda c: handler(plane, c, request)):
                    yield message
            except Exception as exc:
                await _abort(context, exc)

        return method

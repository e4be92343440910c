"""How an RPC runs once it is admitted, the same for gRPC and HTTP: the one place for enum checks.

``engine_unary`` and ``engine_stream`` build an RPC's handler from its family's converters
(``transport.convert``): check the message's enums, resolve the engine, convert the message
into the engine's request (once), run it through the dataplane and convert each event out
(once). Responses, and the first event of a stream, name the model version that answered.
Large images are decoded (by the engine's ``validate``, through the decoders the converter
hands it) and encoded on a worker thread, so the event loop never waits on them.
``repository_unary`` does the same for the RPCs that only read the repository (ListModels, GetModel).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.message import Message

from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.engines.base import last_event
from oneiros_server.observability import tracing
from oneiros_server.settings import Settings
from oneiros_server.transport.convert.enums import check_enums

T = TypeVar("T")
ToRequest = Callable[[Message, Settings], Any]  # wire message -> the engine's request
ToMessage = Callable[[Any, Message], Message]  # an event (or the result), the request -> wire message
UnaryHandler = Callable[[Dataplane, Call, Message], Awaitable[Message]]
StreamHandler = Callable[[Dataplane, Call, Message], AsyncIterator[Message]]


async def offload(fn: Callable[..., T], *args: Any) -> T:
    """Run CPU-heavy conversion (decoding or encoding a large image) on a worker thread, in the
    caller's trace."""
    return await asyncio.get_running_loop().run_in_executor(None, tracing.carry(fn), *args)


def _encoding(convert: ToMessage) -> ToMessage:
    def encode(event: Any, message: Message) -> Message:
        with tracing.span("oneiros.encode"):
            return convert(event, message)

    return encode


async def _submit(
    plane: Dataplane, call: Call, message: Message, family: str, to_request: ToRequest, heavy_request
) -> AsyncIterator[Any]:
    """Check the enums, resolve the engine, convert the message in and submit it: the call's events."""
    check_enums(message)
    engine = plane.engine(call, family, message.model_version)  # type: ignore[attr-defined]
    request = to_request(message, plane.settings)
    if heavy_request(message) if callable(heavy_request) else heavy_request:
        return await offload(plane.run, call, engine, request)
    return plane.run(call, engine, request)


def engine_unary(
    family: str, to_request: ToRequest, to_response: ToMessage, *, heavy_request=False, heavy_response=False
) -> UnaryHandler:
    """A unary RPC on the engine of ``family``: the response comes from the last event.

    ``heavy_request``: the request carries images as their decoders, which the engine's
    ``validate`` calls (after its cheap checks), so validation and submission run on a worker thread;
    True, or a predicate of the message (EditLatent: only when it carries an image).
    """

    to_response = _encoding(to_response)

    async def handle(plane: Dataplane, call: Call, message: Message) -> Message:
        result = await last_event(await _submit(plane, call, message, family, to_request, heavy_request))
        response = await offload(to_response, result, message) if heavy_response else to_response(result, message)
        response.model_version = call.version  # type: ignore[attr-defined]
        return response

    return handle


def engine_stream(
    family: str,
    to_request: ToRequest,
    to_message: ToMessage,
    *,
    heavy_request=False,
    heavy: Callable[[Any], bool] | None = None,
) -> StreamHandler:
    """A server-streaming RPC on the engine of ``family``: one message per event.

    ``heavy_request`` as for ``engine_unary``; ``heavy(event)`` says which events are converted
    on a worker thread (large previews).
    """

    encode = _encoding(to_message)

    async def handle(plane: Dataplane, call: Call, message: Message) -> AsyncIterator[Message]:
        events = await _submit(plane, call, message, family, to_request, heavy_request)
        version = call.version  # said by the first event only
        async for event in events:
            if heavy is not None and heavy(event):  # large previews, the result: spanned
                out = await offload(encode, event, message)
            else:
                out = to_message(event, message)
            if version:
                out.model_version, version = version, ""  # type: ignore[attr-defined]
            yield out

    return handle


def repository_unary(answer: Callable[[Dataplane, Message], Message]) -> UnaryHandler:
    """A unary RPC answered from the repository (no engine)."""

    async def handle(plane: Dataplane, call: Call, message: Message) -> Message:
        check_enums(message)
        return answer(plane, message)

    return handle

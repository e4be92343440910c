"""Endpoints of the Oneiros RPCs: parse the request message, run it through the dataplane, answer.

``POST /v1/<rpc>`` answers JSON, or the image itself when the client sends ``Accept: image/png``
(``image/jpeg``, ``image/webp``; several images come on one contact sheet, ``?index=i`` picks one). ``POST /v1/<rpc>/stream``
(or ``"stream": true`` in the body, or ``Accept: text/event-stream``) answers server-sent events,
one per stream message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call
from oneiros_server.errors import FieldError
from oneiros_server.transport.handlers import offload
from oneiros_server.transport.http import codec, sheet, sse
from oneiros_server.transport.http.bodies import Bodies
from oneiros_server.transport.http.calls import ClientGone, HttpCalls, error_response, http_request_id, timeout_s
from oneiros_server.transport.http.errors import describe
from oneiros_server.transport.http.openai_schema import JSON_EXTRAS
from oneiros_server.transport.rpcs import Rpc

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
MEDIA_TYPES = {name: media for media, name in IMAGE_TYPES.items()}
LARGE_BYTES = 64 << 10  # responses bigger than this are converted to JSON off the event loop


def accepted_image(request: Request) -> str | None:
    """The image format the client asks for first in ``Accept``, or None when it wants JSON."""
    for item in request.headers.get("accept", "").split(","):
        media = item.split(";")[0].strip().lower()
        if media in IMAGE_TYPES:
            return IMAGE_TYPES[media]
        if media == "image/*":
            return ""
        if media in ("application/json", "*/*", "text/event-stream"):
            return None
    return None


def wants_events(request: Request) -> bool:
    """True when ``Accept`` names ``text/event-stream`` first: the route's stream, as SSE."""
    first = request.headers.get("accept", "").split(",")[0]
    return first.split(";")[0].strip().lower() == "text/event-stream"


async def converted(source: AsyncIterator[Message]) -> AsyncIterator[dict]:
    """The stream's messages as JSON objects; closing this closes the stream (and the call) at once."""
    try:
        async for message in source:
            big = message.ByteSize() > LARGE_BYTES
            yield await offload(codec.to_json, message) if big else codec.to_json(message)
    finally:
        await source.aclose()  # type: ignore[attr-defined]


class NativeEndpoints:
    """Starlette endpoints for the route table, over one dataplane."""

    def __init__(self, calls: HttpCalls, bodies: Bodies):
        self.calls = calls
        self.plane = calls.plane
        self.bodies = bodies

    def endpoint(self, route: Rpc, stream: bool = False) -> Callable:
        async def handle(request: Request) -> Response:
            return await self._handle(route, request, stream)

        handle.__name__ = route.stream_rpc if stream else route.rpc
        return handle

    async def _request(self, route: Rpc, request: Request) -> tuple[Message, codec.Extras]:
        if route.method == "GET":
            data: dict = dict(request.query_params)
            data.update(request.path_params)
            return codec.to_message(data, route.request, self.bodies.caps), codec.Extras()
        content_type = request.headers.get("content-type", "")
        return await self.bodies.parse(request, route.rpc, codec.decode, content_type, route.request, self.bodies.caps)

    async def _handle(self, route: Rpc, request: Request, stream: bool) -> Response:
        rid = http_request_id(request)
        try:
            self.calls.authenticate(request)
            message, extras = await self._request(route, request)
            timeout = timeout_s(request, extras.timeout)
            if stream or extras.stream or (route.stream_handler is not None and wants_events(request)):
                if route.stream_handler is None:
                    raise FieldError("stream", f"{route.rpc} has no streaming form")
                return self._stream(route, request, rid, message, timeout)
            image = accepted_image(request) if route.images is not None else None
            if image:
                message.output_format = pb.ImageFormat.Value(image)  # type: ignore[attr-defined]
            call = self.calls.open(rid, route.rpc, route.model(message), timeout)
            response = await self.calls.unary(request, call, lambda c: route.handler(self.plane, c, message))
            if image is not None and route.images is not None:
                return await _image_response(route.images(response), message, request, rid)
            big = response.ByteSize() > LARGE_BYTES
            body = await offload(codec.to_json, response) if big else codec.to_json(response)
            extra = JSON_EXTRAS.get(route.rpc)
            if extra is not None:
                body = extra[0](body)
            return JSONResponse(body, headers={"x-request-id": rid})
        except ClientGone:
            return Response(status_code=499)
        except Exception as exc:  # every failure is mapped; bugs become a generic 500
            return error_response(exc, rid)

    def _stream(self, route: Rpc, request: Request, rid: str, message: Message, timeout: float | None):
        assert route.stream_handler is not None
        call: Call = self.calls.open(rid, route.stream_rpc, route.model(message), timeout)
        handler = route.stream_handler
        events = self.plane.stream(call, lambda c: handler(self.plane, c, message))
        return sse.EventStream(
            call,
            converted(events),
            error_response=lambda exc: error_response(exc, rid),
            error_event=lambda exc: sse.event(describe(exc)[1], "error"),
            headers={"x-request-id": rid},
        )


async def _image_response(images: list, message: Message, request: Request, rid: str) -> Response:
    """One image of the answer (``?index=i``), or all of them on one contact sheet."""
    fmt = pb.ImageFormat.Name(message.output_format)  # type: ignore[attr-defined]
    index_text = request.query_params.get("index", "")
    if index_text:
        if not (index_text.isdigit() and int(index_text) < len(images)):
            raise FieldError("index", f"must be an integer in [0, {len(images)})")
        data = images[int(index_text)].data
    elif len(images) == 1:
        data = images[0].data
    else:
        has_grid = "grid" in message.DESCRIPTOR.fields_by_name and message.HasField("grid")
        grid = message.grid.steps if has_grid else 0  # type: ignore[attr-defined]
        cols = sheet.columns(len(images), grid)
        data = await offload(sheet.contact_sheet, [i.data for i in images], cols, fmt)
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={"x-request-id": rid})

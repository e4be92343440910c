"""Server-sent events: one ``data:`` event per stream message, as the gRPC stream would send it.

The response waits for the stream's first message before it sends its status line, so a call
refused or invalid answers with the error table's status (400, 404, 429, ...) like a unary
call; an error after that is one ``event: error`` with the same JSON body, and the stream
ends. The client's disconnect and the deadline cancel the stream (``calls.guarded``), which
stops the work at its next step. Sending waits for the socket (uvicorn's flow control), so a
slow reader holds the stream's one-slot buffer, which merges, as over gRPC.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from oneiros_server.dataplane import Call
from oneiros_server.transport.http.calls import ClientGone, guarded

HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}  # no proxy buffering either
HEARTBEAT = b": keep-alive\n\n"  # an SSE comment: clients skip it


def event(data: dict | str, name: str | None = None) -> bytes:
    """One SSE event; ``data`` is a JSON object (on one line) or raw text such as ``[DONE]``."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return (f"event: {name}\n" if name else "").encode() + b"data: " + text.encode() + b"\n\n"


class EventStream:
    """An ASGI response that streams ``events`` (already JSON objects) of an admitted call.

    ``error_response(exc)`` answers a failure before the first event, ``error_event(exc)`` one
    after it; ``done`` (e.g. ``data: [DONE]``) is sent after the last event of a clean end. A
    stream quiet for ``heartbeat_s`` (a long Dream step) gets a comment line to keep proxies from
    closing it.
    """

    heartbeat_s = 15.0

    def __init__(
        self,
        call: Call,
        events: AsyncIterator[dict],
        error_response: Callable[[BaseException], Response],
        error_event: Callable[[BaseException], bytes],
        headers: dict[str, str],
        done: bytes = b"",
    ):
        self.call = call
        self.events = events
        self.error_response = error_response
        self.error_event = error_event
        self.headers = HEADERS | headers
        self.done = done
        self.started = False
        self.last_sent = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await guarded(self._pump(scope, receive, send), receive, self.call)
        except ClientGone:
            return
        except Exception as exc:  # the deadline passed (or a bug) while the stream was cancelled
            if not self.started:
                await self.error_response(exc)(scope, receive, send)
                return
            await self._body(send, self.error_event(exc), more=False)

    async def _pump(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = self.events
        try:
            try:
                first: dict | None = await anext(events)
            except StopAsyncIteration:
                first = None
            except Exception as exc:
                await self.error_response(exc)(scope, receive, send)
                self.started = True
                return
            await self._start(send)
            closing = self.done
            beat = asyncio.ensure_future(self._heartbeat(send))
            try:
                if first is not None:
                    await self._body(send, event(first))
                async for message in events:
                    await self._body(send, event(message))
            except Exception as exc:
                closing = self.error_event(exc)
            finally:
                beat.cancel()
            await self._body(send, closing, more=False)
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    async def _start(self, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        self.started = True

    async def _heartbeat(self, send: Send) -> None:
        """A comment line after every ``heartbeat_s`` without an event, so proxies keep the stream open."""
        while True:
            await asyncio.sleep(max(0.0, self.last_sent + self.heartbeat_s - time.monotonic()))
            if time.monotonic() - self.last_sent >= self.heartbeat_s:
                await self._body(send, HEARTBEAT)

    async def _body(self, send: Send, data: bytes, more: bool = True) -> None:
        self.last_sent = time.monotonic()
        await send({"type": "http.response.body", "body": data, "more_body": more})

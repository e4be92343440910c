"""Limits on the wire, below the app: how long a client may take to send its headers, and how
many header bytes and lines it may send.

uvicorn's httptools protocol has neither: a client that drips a header byte every few seconds
keeps its socket, and a 16 MiB header is read in full. ``GuardedHttpProtocol`` adds both:

- headers (request line included) must arrive within ``read_timeout_s`` of the connection or of
  the request's first byte, else the connection is closed (408 when a request had begun);
- more than ``max_header_bytes`` before the end of the headers, or more than ``max_headers``
  header lines, is answered 431 and the connection closed, before the rest is parsed;
- a body that arrives in more than ``FREE_PIECES`` pieces averaging under ``MIN_PIECE_BYTES``
  (chunked encoding with one-byte chunks: a Python callback each, on the event loop) is answered
  400 and the connection closed. Honest clients send chunks, and TCP delivers segments, far larger;
- more than ``MAX_PIPELINED`` requests sent ahead on one connection (each parsed on the loop
  before the first is answered) close the connection.

The body's own time limit is the app's (``bodies.Bodies``), where the route's size limit is known;
a request answered before its body was read in full has the rest of it dropped for ``LINGER_S``,
then its connection closed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("oneiros.http")
FREE_PIECES = 1024
LINGER_S = 2.0  # after an early answer, what the client still sends is read and dropped this long
MAX_PIPELINED = 16  # requests sent ahead on one connection, waiting for the one being answered
MIN_PIECE_BYTES = 512


@dataclass(frozen=True)
class WireLimits:
    read_timeout_s: float = 15.0
    max_header_bytes: int = 64 << 10
    max_headers: int = 100


class _TooManyHeaders(Exception):
    """Raised in a parser callback to stop parsing: more header bytes or lines than allowed."""


class _TooManyPipelined(Exception):
    """Raised in a parser callback to stop parsing: more requests queued on one connection than allowed."""


class _TooManyPieces(Exception):
    """Raised in a parser callback to stop parsing: a body in pieces too small to be honest."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and header size and count limits."""

    limits = WireLimits()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._header_count = 0
        self._in_headers = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._discarding = False
        self._arm(begun=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, begun: bool) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.limits.read_timeout_s, self._headers_too_slow, begun)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self, begun: bool) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if begun or self._in_headers:
            log.info("http headers too slow", extra={"client": _client(self.client)})
            self._reply("408 Request Timeout", "the request headers took too long")
        else:
            self.transport.close()  # a connection that never sent a request

    def _reply(self, status: str, message: str) -> None:
        """Answer and end the connection; what the client still sends is dropped for ``LINGER_S``
        (a close with unread data would reset the connection and lose the answer)."""
        self._disarm()
        body = message.encode()
        head = f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
        self.transport.write(head.encode() + b"connection: close\r\n\r\n" + body)
        self._end_after_answer()

    def _end_after_answer(self) -> None:
        self._discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        self._unset_keepalive_if_required()
        if self._in_headers or self.cycle is None or self.cycle.response_complete:
            self._header_bytes += len(data)  # an upper bound: the chunk may end with body bytes
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _TooManyHeaders):
                self._too_large()
            elif isinstance(exc.__context__, _TooManyPieces):
                self._too_many_pieces()
            elif isinstance(exc.__context__, _TooManyPipelined):
                log.info("http requests pipelined too deep", extra={"client": _client(self.client)})
                self.transport.close()
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_headers and self._header_bytes > self.limits.max_header_bytes:
            self._too_large()

    def _too_large(self) -> None:
        self._disarm()
        limits = self.limits
        log.info("http headers too large", extra={"client": _client(self.client)})
        message = f"the request headers are over {limits.max_header_bytes} bytes or {limits.max_headers} lines"
        self._reply("431 Request Header Fields Too Large", message)

    def _too_many_pieces(self) -> None:
        log.info("http body in too many small pieces", extra={"client": _client(self.client)})
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the app stops reading and answers nobody
            cycle.message_event.set()
            message = f"the body came in pieces averaging under {MIN_PIECE_BYTES} bytes; send larger chunks"
            self._reply("400 Bad Request", message)
        else:
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_count = 0
        self._body_pieces = self._body_bytes = 0
        self._arm(begun=True)

    def on_body(self, body: bytes) -> None:
        self._body_pieces += 1
        self._body_bytes += len(body)
        if self._body_pieces > FREE_PIECES + self._body_bytes // MIN_PIECE_BYTES:
            raise _TooManyPieces()
        super().on_body(body)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _TooManyHeaders()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._disarm()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:  # the whole head came in one piece
            raise _TooManyHeaders()
        if len(self.pipeline) >= MAX_PIPELINED:
            raise _TooManyPipelined()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body:
            # Answered before the body was read (413, 408, 429, 401...): uvicorn drops the rest of
            # the body as it comes, and the connection serves on if it ends within LINGER_S;
            # a body that keeps coming at the client's pace is not waited for.
            self.loop.call_later(LINGER_S, self._close_if_unfinished, cycle)
        super().on_response_complete()

    def _close_if_unfinished(self, cycle) -> None:
        if self.cycle is cycle and cycle.more_body and not self.transport.is_closing():
            self.transport.close()


def _client(address: tuple | None) -> str:
    return f"{address[0]}:{address[1]}" if address else ""


def protocol(limits: WireLimits) -> type[GuardedHttpProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, with these limits."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})

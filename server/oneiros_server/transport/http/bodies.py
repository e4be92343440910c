"""Request bodies: read within the route's size and time limits, converted on a bounded pool.

Nothing that grows with the body runs on the event loop that serves every connection (HTTP and
gRPC): the loop only collects the bytes, refusing a body over the route's limit from its
``Content-Length`` (413 before reading) or as soon as the stream passes it, and one that takes
longer than ``--http-read-timeout-s`` (408). Decoding (JSON, forms), the caps of ``shapes`` and the
conversion to protobuf run on ``BodyPool``: a few threads and a bounded queue (429 when full).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from starlette.requests import ClientDisconnect, Request

from oneiros_server.errors import Overloaded
from oneiros_server.settings import Settings
from oneiros_server.transport.http.calls import ClientGone
from oneiros_server.transport.http.errors import HttpError
from oneiros_server.transport.http.shapes import Caps

T = TypeVar("T")
log = logging.getLogger("oneiros.http")
POOL_THREADS = 2
POOL_QUEUE = 64  # bodies waiting for a pool thread before 429
SMALL_BODY = 1 << 10  # bodies this small are converted on the loop: cheaper than a thread hop
TEXT_BYTES_PER_CHAR = 12  # a JSON-escaped character outside the BMP: "\ud83d\ude00"
BASE_BYTES = 64 << 10  # the rest of a request: names, numbers, options
LATENT_BYTES = 4 << 20  # latents and strengths
BUFFERED_MESSAGES = 8  # bodies of --max-message-bytes that may be held at once, in all


class BodyTooSlow(HttpError):
    def __init__(self, seconds: float):
        message = f"the request body took longer than {seconds:g} s to arrive"
        super().__init__(408, "DEADLINE_EXCEEDED", message)


def body_limits(s: Settings) -> dict[str, int]:
    """The largest body (bytes) per RPC, within ``--max-message-bytes``: what its fields can need."""
    image = 4 * ((s.max_image_bytes + 2) // 3)  # base64 in JSON; a multipart file is smaller
    text = TEXT_BYTES_PER_CHAR * s.sample_max_prompt_chars  # a prompt or a stop sequence
    limits = {
        "Sample": BASE_BYTES + text * (1 + s.sample_max_stop),
        "Completions": BASE_BYTES + text * (s.sample_max_n + s.sample_max_stop),  # up to n prompts
        "Decode": BASE_BYTES + LATENT_BYTES,
        "EditLatent": BASE_BYTES + LATENT_BYTES + 2 * image,
        "Dream": BASE_BYTES + image,
        "Stylize": BASE_BYTES + 2 * image,
    }
    limits["SampleStream"] = limits["Sample"]
    limits["DreamStream"], limits["StylizeStream"] = limits["Dream"], limits["Stylize"]
    return {rpc: min(limit, s.max_message_bytes) for rpc, limit in limits.items()}


class BodyPool:
    """A few threads for body conversion, with a bounded queue: full = ``Overloaded`` (429)."""

    def __init__(self, threads: int = POOL_THREADS, queue: int = POOL_QUEUE):
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="http-body")
        self._capacity = threads + queue
        self._pending = 0

    async def run(self, fn: Callable[..., T], *args) -> T:
        if self._pending >= self._capacity:
            raise Overloaded(f"{self._pending} request bodies are being converted; retry shortly", 0.5)
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Bodies:
    """Reads and converts request bodies for every route of one app.

    The bytes of every body being read or converted count against one budget
    (``BUFFERED_MESSAGES`` x ``--max-message-bytes``); past it, a body is refused (429) instead
    of being buffered, so unfinished uploads cannot hold the server's memory.
    """

    def __init__(self, settings: Settings):
        self.limits = body_limits(settings)
        self.default_limit = settings.max_message_bytes
        self.read_timeout_s = settings.http_read_timeout_s
        self.caps = Caps.of(settings)
        self.pool = BodyPool()
        self.budget = BUFFERED_MESSAGES * settings.max_message_bytes
        self.buffered = 0

    async def parse(self, request: Request, rpc: str, fn: Callable[..., T], *args) -> T:
        """``fn(body, *args)`` over the body of a call to ``rpc``, read within its limits; on the
        pool unless the body is tiny."""
        held = [0]
        try:
            body = await self._read(request, rpc, held)
            if len(body) <= SMALL_BODY:
                return fn(body, *args)
            return await self.pool.run(fn, body, *args)
        finally:
            self.buffered -= held[0]

    async def _read(self, request: Request, rpc: str, held: list[int]) -> bytes:
        limit = self.limits.get(rpc, self.default_limit)
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _too_large(f"the body is {length} bytes; the limit for {rpc} is {limit}")
        chunks = []
        try:
            async with asyncio.timeout(self.read_timeout_s):
                async for chunk in request.stream():
                    if held[0] + len(chunk) > limit:
                        raise _too_large(f"the body is over the limit for {rpc} of {limit} bytes")
                    if self.buffered + len(chunk) > self.budget:
                        raise Overloaded(f"{self.buffered} bytes of request bodies are buffered; retry shortly", 1.0)
                    held[0] += len(chunk)
                    self.buffered += len(chunk)
                    chunks.append(chunk)
        except TimeoutError:
            raise BodyTooSlow(self.read_timeout_s) from None
        except ClientDisconnect:
            log.info("client left during its upload", extra={"rpc": rpc, "received_bytes": held[0]})
            raise ClientGone() from None
        return b"".join(chunks)

    def close(self) -> None:
        self.pool.close()


def _too_large(message: str) -> HttpError:
    return HttpError(413, "INVALID_ARGUMENT", message)

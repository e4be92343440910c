"""How every HTTP call runs: bearer token, request id, deadline, admission and the call's life
(``Dataplane``), and the race between the work, the client's disconnect and the deadline."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive

from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.errors import DeadlineExceeded, OneirosError
from oneiros_server.transport.http.errors import HttpError, describe, unauthenticated
from oneiros_server.transport.policy import MISSING_TOKEN, Tokens, request_id

T = TypeVar("T")
log = logging.getLogger("oneiros.http")
TRANSPORT = "http"
MAX_TIMEOUT_S = 365 * 24 * 3600.0


class ClientGone(Exception):
    """The client disconnected before its answer was ready: its work was stopped, nobody to answer."""


def http_request_id(request: Request) -> str:
    return request_id(request.headers.get("x-request-id"))[0]


def timeout_s(request: Request, field: object = None) -> float | None:
    """The deadline in seconds from the ``timeout`` header or body field: ``2.5``, ``"2.5s"`` or ``"500ms"``."""
    value = field if field is not None else request.headers.get("timeout")
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    scale = 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 1e-3
    elif text.endswith("s"):
        text = text[:-1]
    try:
        seconds = float(text) * scale
    except ValueError:
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT_S:
        raise HttpError(400, "INVALID_ARGUMENT", "timeout: must be a positive number of seconds, e.g. 30 or '500ms'")
    return seconds


def error_response(exc: BaseException, rid: str) -> JSONResponse:
    """The error table's answer for ``exc`` (``errors.describe``); a bug's traceback goes to the log."""
    status, body, headers = describe(exc)
    log_bug(exc, status, rid)
    return JSONResponse(body, status_code=status, headers=headers | {"x-request-id": rid})


def log_bug(exc: BaseException, status: int, rid: str) -> None:
    if status >= 500 and not isinstance(exc, OneirosError | HttpError):
        log.error("http request failed", extra={"request_id": rid, "transport": TRANSPORT}, exc_info=exc)


async def wait_disconnect(receive: Receive) -> None:
    """Return when the client has gone away (call after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def guarded(work: Awaitable[T], receive: Receive, call: Call) -> T:
    """Await ``work`` unless the client disconnects (ClientGone) or the deadline passes (DeadlineExceeded).

    Either way the current task is cancelled, as grpc.aio cancels a handler, so the dataplane
    records the outcome and stops the work at its next step. ``work`` runs in this task, so it
    always starts (and closes its call) even when it is cancelled at once.
    """
    task = asyncio.current_task()
    assert task is not None
    hung_up = finished = False

    def hang_up(watcher: asyncio.Future) -> None:
        nonlocal hung_up
        if not finished and not watcher.cancelled():
            hung_up = True
            task.cancel()

    watcher = asyncio.ensure_future(wait_disconnect(receive))
    watcher.add_done_callback(hang_up)
    timeout = asyncio.timeout(call.control.time_left())
    try:
        async with timeout:
            return await work
    except TimeoutError:
        if timeout.expired():
            raise DeadlineExceeded("the deadline passed; work stopped") from None
        raise
    except asyncio.CancelledError:
        if hung_up and task.uncancel() == 0:
            raise ClientGone() from None
        raise  # the server is stopping
    finally:
        finished = True
        watcher.cancel()


class HttpCalls:
    """Admits HTTP calls to the dataplane and runs them; the HTTP analogue of ``grpc.calls``."""

    def __init__(self, plane: Dataplane, tokens: Tokens, max_body_bytes: int):
        self.plane = plane
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes

    def authenticate(self, request: Request) -> None:
        """Raise a 401 ``HttpError`` unless ``Authorization: Bearer <token>`` names a known token (or auth is off)."""
        problem = self.tokens.problem(request.headers.get("authorization", ""))
        if problem == MISSING_TOKEN:
            raise unauthenticated(f"{problem}: send the header 'Authorization: Bearer <token>'")
        if problem is not None:
            raise unauthenticated(problem)

    def open(self, rid: str, rpc: str, model: str, timeout: float | None) -> Call:
        """Admit a call with request id ``rid`` (raises the dataplane's refusals)."""
        return self.plane.open(rpc, model, rid, timeout, transport=TRANSPORT)

    async def unary(self, request: Request, call: Call, run: Callable[[Call], Awaitable[Any]]) -> Any:
        """Run ``run(call)`` through the dataplane, racing the client's disconnect and the deadline."""
        return await guarded(self.plane.unary(call, run), request.receive, call)

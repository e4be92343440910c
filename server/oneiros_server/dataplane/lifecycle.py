"""The life of one call, whatever the transport: admission, cancellation, metering, one log line."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from oneiros_server.dataplane.outcomes import outcome
from oneiros_server.errors import Cancelled, DeadlineExceeded, ModelUnavailable, OneirosError, Overloaded, ShuttingDown
from oneiros_server.observability import metrics, tracing
from oneiros_server.repository import ModelRepository, ModelVersion
from oneiros_server.scheduling.control import CallControl

log = logging.getLogger("oneiros.calls")
T = TypeVar("T")

Observer = Callable[[str, str, str, float, str, str], None]  # rpc, model, status name, seconds, transport, version
UNLOADED_OK = frozenset({"ListModels", "GetModel"})  # answered while the models still load


class ServerState:
    """What the dataplane needs to know about the running server."""

    def __init__(self, repository: ModelRepository):
        self.repository = repository
        self.loaded = threading.Event()  # models loaded and warmed
        self.draining = threading.Event()  # SIGTERM received
        self.observers: list[Observer] = []
        self.in_flight = 0


@dataclass(eq=False)
class Call:
    """One call: what it is, who asked, and its ``CallControl`` (cancellation, deadline)."""

    rpc: str
    model: str
    request_id: str
    control: CallControl
    started: float = field(default_factory=time.monotonic)
    transport: str = "grpc"
    version: str = ""  # the model version that answers, once resolved
    held: ModelVersion | None = None  # that version, held until the call ends (an unload waits for it)
    holds: list[ModelVersion] = field(default_factory=list)  # every version it holds, each released once


class Lifecycle:
    """Admits calls, runs them, and reports how each ended (metrics observers and one log line)."""

    def __init__(self, state: ServerState, max_in_flight: int):
        self.state = state
        self.max_in_flight = max_in_flight

    def open(self, rpc: str, model: str, request_id: str, timeout_s: float | None, transport: str = "grpc") -> Call:
        """Admit a call or raise (and count the refusal): ShuttingDown, ModelUnavailable, Overloaded."""
        call = Call(rpc, model, request_id, CallControl.with_timeout(timeout_s, rpc), transport=transport)
        state = self.state
        refusal: OneirosError | None = None
        if state.draining.is_set():
            refusal = ShuttingDown("the server is shutting down; retry on another instance")
        elif not state.loaded.is_set() and rpc not in UNLOADED_OK:
            refusal = ModelUnavailable("the server is still loading its models; retry shortly")
        elif state.in_flight >= self.max_in_flight:
            refusal = Overloaded(f"{state.in_flight} calls in flight, the limit; retry shortly", retry_after_s=0.5)
        state.in_flight += 1
        metrics.IN_FLIGHT.inc()
        if refusal is not None:
            self.close(call, refusal)
            raise refusal
        return call

    def close(self, call: Call, exc: BaseException | None) -> None:
        self.state.in_flight -= 1
        metrics.IN_FLIGHT.dec()
        for model in call.holds:
            model.release()
        call.holds.clear()
        call.held = None
        seconds = time.monotonic() - call.started
        code = outcome(exc)
        tracing.annotate({"oneiros.rpc": call.rpc, "oneiros.model": call.model or None, "oneiros.outcome": code})
        for observe in self.state.observers:
            observe(call.rpc, call.model, code, seconds, call.transport, call.version)
        if exc is not None and not isinstance(exc, OneirosError):
            log.error("call failed", extra=_fields(call, code, seconds), exc_info=exc)
        elif log.isEnabledFor(logging.INFO if exc is not None else logging.DEBUG):
            extra = _fields(call, code, seconds) | ({"error": exc.message} if exc is not None else {})
            log.log(logging.INFO if exc is not None else logging.DEBUG, "call", extra=extra)

    @staticmethod
    def _stopped(call: Call) -> OneirosError:
        """The caller went away (the transport cancelled the call): stop its work now."""
        left = call.control.time_left()
        error: OneirosError = (
            DeadlineExceeded("the deadline passed") if left is not None and left <= 0 else Cancelled("cancelled")
        )
        call.control.cancel(reason=type(error))
        return error

    async def unary(self, call: Call, run: Callable[[Call], Awaitable[T]]) -> T:
        """Run an admitted call to its result; domain errors propagate for the transport to map."""
        try:
            result = await run(call)
        except BaseException as exc:
            self._ended_early(call, exc)
            raise
        self.close(call, None)
        return result

    async def stream(self, call: Call, run: Callable[[Call], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Run an admitted streaming call, yielding its events."""
        try:
            async for event in run(call):
                yield event
        except BaseException as exc:
            self._ended_early(call, exc)
            raise
        self.close(call, None)

    def _ended_early(self, call: Call, exc: BaseException) -> None:
        """Close a call that raised: one its caller left (cancelled, or a stream closed) stops
        with DeadlineExceeded or Cancelled; any other error is its outcome. Its work stops either way."""
        if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
            self.close(call, self._stopped(call))
        else:
            call.control.cancel()
            self.close(call, exc)


def _fields(call: Call, code: str, seconds: float) -> dict:
    return {
        "request_id": call.request_id,
        "rpc": call.rpc,
        "transport": call.transport,
        "model": call.model,
        "version": call.version,
        "code": code,
        "duration_ms": round(seconds * 1000, 2),
    }

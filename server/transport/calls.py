"""Runs every RPC the same way: request id, admission while draining, call control
(cancellation, deadline), the error table, and one structured log line per call."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from oneiros_server.control import CallControl
from oneiros_server.errors import ModelUnavailable, OneirosError, ShuttingDown
from oneiros_server.repository import ModelRepository
from oneiros_server.transport.status import code_for, to_status

log = logging.getLogger("oneiros.calls")

Handler = Callable[[ModelRepository, Any, CallControl], Any]


class ServerState:
    """What the transport needs to know about the running server."""

    def __init__(self, repository: ModelRepository):
        self.repository = repository
        self.loaded = threading.Event()  # models loaded and warmed
        self.draining = threading.Event()  # SIGTERM received
        self.observers: list[Callable[[str, str, grpc.StatusCode, float], None]] = []


def _control_for(context: grpc.ServicerContext) -> CallControl:
    remaining = context.time_remaining()
    control = CallControl.with_timeout(remaining if remaining is not None and remaining < 1e8 else None)
    context.add_callback(control.cancel)
    return control


def _request_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and value:
            return str(value)[:64]
    return uuid.uuid4().hex[:16]


class CallRunner:
    def __init__(self, state: ServerState):
        self.state = state

    def _admit(self, rpc: str) -> None:
        if self.state.draining.is_set():
            raise ShuttingDown("the server is shutting down; retry on another instance")
        if not self.state.loaded.is_set() and rpc not in ("ListModels", "GetModel"):
            raise ModelUnavailable("the server is still loading its models; retry shortly")

    def _finish(self, rpc, request, rid, started, exc: BaseException | None, context) -> None:
        code = grpc.StatusCode.OK if exc is None else code_for(exc)
        self._log(rpc, request, rid, started, code, exc)
        if exc is not None:
            context.abort_with_status(to_status(exc))

    def _log(self, rpc, request, rid, started, code: grpc.StatusCode, exc: BaseException | None) -> None:
        seconds = time.monotonic() - started
        model = getattr(request, "model", "") or getattr(request, "name", "")
        fields = {
            "request_id": rid,
            "rpc": rpc,
            "model": model,
            "code": code.name,
            "duration_ms": round(seconds * 1000, 2),
        }
        if exc is not None and not isinstance(exc, OneirosError):
            log.error("call failed", extra=fields, exc_info=exc)
        else:
            log.info("call", extra=fields | ({"error": exc.message} if exc is not None else {}))
        for observe in self.state.observers:
            observe(rpc, model, code, seconds)

    def unary(self, rpc: str, handler: Handler, request, context: grpc.ServicerContext):
        started, rid = time.monotonic(), _request_id(context)
        context.send_initial_metadata((("x-request-id", rid),))
        try:
            self._admit(rpc)
            response = handler(self.state.repository, request, _control_for(context))
        except Exception as exc:  # every failure is mapped; bugs become INTERNAL
            self._finish(rpc, request, rid, started, exc, context)
            raise  # unreachable: abort_with_status raises
        self._finish(rpc, request, rid, started, None, context)
        return response

    def stream(self, rpc: str, handler: Handler, request, context: grpc.ServicerContext) -> Iterator:
        started, rid = time.monotonic(), _request_id(context)
        context.send_initial_metadata((("x-request-id", rid),))
        try:
            self._admit(rpc)
            yield from handler(self.state.repository, request, _control_for(context))
        except GeneratorExit:  # the client went away mid-stream
            self._log(rpc, request, rid, started, grpc.StatusCode.CANCELLED, None)
            raise
        except Exception as exc:
            self._finish(rpc, request, rid, started, exc, context)
            raise
        self._finish(rpc, request, rid, started, None, context)

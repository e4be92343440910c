"""The dataplane: the one place that knows a request's life, for any transport and any engine.

A transport admits the call (``open``) and runs it under the call's lifecycle (``unary``,
``stream``). Every RPC that runs on an engine takes the same steps: ``engine(call, family)``
resolves the model that serves ``family`` under ``call.model``; the transport's converter
turns the wire message into the engine's request type; ``run(call, engine, request)``
validates it once, submits the params (bounded queues answer ``Overloaded`` at once) and
hands back the engine's events. A unary call takes the last
event (``result``); a stream forwards each one (bounded: engines hand events over through
one-slot buffers that merge while the reader lags). Errors are domain exceptions
(``oneiros_server.errors``); ``outcomes.outcome`` names their status. The transport cancels
the coroutine or closes the iterator when its client goes away or the deadline passes:
queued work is dropped at once, running work stops at its next step.

Nothing here imports grpc, Starlette, protobuf or any engine (only their protocol, ``engines.base``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from oneiros_server.dataplane.admin import RepositoryAdmin
from oneiros_server.dataplane.lifecycle import Call, Lifecycle, ServerState
from oneiros_server.engines.base import Engine, last_event
from oneiros_server.errors import FieldError
from oneiros_server.observability import tracing
from oneiros_server.repository import ModelRepository, ModelVersion

T = TypeVar("T")


class Dataplane:
    """Transport-neutral request handling over the model repository (see the module docstring)."""

    def __init__(self, state: ServerState):
        self.state = state
        self.repository: ModelRepository = state.repository
        self.settings = state.repository.settings
        self.lifecycle = Lifecycle(state, self.settings.max_concurrent_rpcs)
        self.admin = RepositoryAdmin(state.repository)

    # ---------------------------------------------------------------- lifecycle
    def open(self, rpc: str, model: str, request_id: str, timeout_s: float | None, transport: str = "grpc") -> Call:
        """Admit a call (raises ShuttingDown, ModelUnavailable or Overloaded)."""
        return self.lifecycle.open(rpc, model, request_id, timeout_s, transport)

    def unary(self, call: Call, run: Callable[[Call], Awaitable[T]]) -> Awaitable[T]:
        """Run ``run(call)`` (a coroutine) under the call's lifecycle."""
        return self.lifecycle.unary(call, run)

    def stream(self, call: Call, run: Callable[[Call], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Iterate ``run(call)`` under the call's lifecycle."""
        return self.lifecycle.stream(call, run)

    # ---------------------------------------------------------------- engines
    def engine(self, call: Call, family: str, version: str = "") -> Engine:
        """The engine of ``family`` of the model that serves the call (``call.model``, '' = the default;
        ``version``, '' = its newest READY one). The call holds that version until it ends
        (``call.version`` names it), so an unload or a swap never pulls the engine from under it;
        asked again in the same call, it answers from the same version.

        Raises ModelNotFound, WrongModelKind, NotLoaded or ModelUnavailable.
        """
        model = call.held
        if model is None or not model.serves(family) or version not in ("", model.version):
            model = self.repository.hold(call.model, family, version)
            call.holds.append(model)
            call.held, call.version = model, model.version
        # else: a call that asks again (the OpenAI route's prompts) keeps the version it holds
        kind = model.manifest.kind if model.manifest is not None else None
        tracing.annotate(
            {"oneiros.model": model.name, "oneiros.model_version": model.version, "oneiros.model_kind": kind}
        )
        return model.engine_set.engines[family]

    def run(self, call: Call, engine: Engine, request: Any) -> AsyncIterator[Any]:
        """The events of ``request`` on ``engine``; the last one is the result.

        Validation and submission happen now (their errors are raised here: FieldError,
        Overloaded...), so a refused call does no work.
        """
        with tracing.span("oneiros.validate"):
            params = engine.validate(request)
        return engine.submit(params, call.control)

    async def result(self, call: Call, engine: Engine, request: Any) -> Any:
        """The result of ``request`` (the last event of ``run``)."""
        return await last_event(self.run(call, engine, request))

    # ---------------------------------------------------------------- models
    def list_models(self, kind: str = "") -> list[ModelVersion]:
        return [m for m in self.repository.models if not kind or (m.manifest is not None and m.manifest.kind == kind)]

    def get_model(self, name: str, version: str = "") -> ModelVersion:
        if not name:
            names = sorted({m.name for m in self.repository.models})
            raise FieldError("name", f"a model name is required; the repository has {names}")
        return self.repository.find(name, version)

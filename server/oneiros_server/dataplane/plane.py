"""The dataplane: the one place that knows a request's life, for any transport.

A transport converts its wire format to the engines' plain types, then calls one
method here per RPC. Each method resolves the model, validates once, admits
(bounded queues answer ``Overloaded`` at once), dispatches to the engine, meters
and streams. Unary methods are coroutines returning plain results; streaming
methods are async iterators of events (bounded: each stream has a one-slot
buffer that merges while the reader lags). Errors are domain exceptions
(``oneiros_server.errors``); ``outcomes.outcome`` names their status. The caller
(transport) cancels the coroutine or closes the iterator when its client goes
away or the deadline passes: queued work is dropped at once, running work stops
at its next step.

Every method takes the admitted ``Call`` first (``Dataplane.open``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from oneiros_server.dataplane.admin import RepositoryAdmin
from oneiros_server.dataplane.lifecycle import Call, Lifecycle, ServerState
from oneiros_server.engines.convnet.dream import DreamParams, DreamProgress, DreamResult
from oneiros_server.engines.convnet.stylize_params import StylizeParams, StylizeProgress, StylizeResult
from oneiros_server.engines.language_model.generation import Chunk, Completion, SampleRequest, collect_async
from oneiros_server.engines.latent.engine import DecodeRequest, EditRequest, LatentEngine, LatentResult
from oneiros_server.errors import FieldError
from oneiros_server.observability import metrics
from oneiros_server.repository import ModelRepository, ModelVersion
from oneiros_server.runtime.onnx import drive_async
from oneiros_server.scheduling.jobs import Job

T = TypeVar("T")


class Dataplane:
    """Transport-neutral request handling over the model repository (see the module docstring)."""

    def __init__(self, state: ServerState):
        self.state = state
        self.repository: ModelRepository = state.repository
        self.lifecycle = Lifecycle(state, state.repository.settings.max_concurrent_rpcs)
        self.admin = RepositoryAdmin(state.repository)

    # ---------------------------------------------------------------- lifecycle
    def open(self, rpc: str, model: str, request_id: str, timeout_s: float | None, transport: str = "grpc") -> Call:
        """Admit a call (raises ShuttingDown, ModelUnavailable or Overloaded)."""
        return self.lifecycle.open(rpc, model, request_id, timeout_s, transport)

    def unary(self, call: Call, run: Callable[[Call], Any]):
        """Run ``run(call)`` (a coroutine) under the call's lifecycle."""
        return self.lifecycle.unary(call, run)

    def stream(self, call: Call, run: Callable[[Call], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Iterate ``run(call)`` under the call's lifecycle."""
        return self.lifecycle.stream(call, run)

    # ---------------------------------------------------------------- models
    def list_models(self, kind: str = "") -> list[ModelVersion]:
        return [m for m in self.repository.models if not kind or (m.manifest is not None and m.manifest.kind == kind)]

    def get_model(self, name: str, version: str = "") -> ModelVersion:
        if not name:
            names = sorted({m.name for m in self.repository.models})
            raise FieldError("name", f"a model name is required; the repository has {names}")
        return self.repository.find(name, version)

    def model_name(self, name: str, family: str) -> str:
        """The model a call with ``name`` ('' = the default) is served by."""
        return name or self.repository.default_for(family).name

    # ---------------------------------------------------------------- Sample
    def sample_stream(self, call: Call, model: str, request: SampleRequest) -> AsyncIterator[Chunk]:
        """Chunks of new text; merged per completion while the reader lags."""
        engine = self.repository.resolve(model, "Sample")
        return engine.astream(engine.validate(request), call.control)

    async def sample(self, call: Call, model: str, request: SampleRequest) -> list[Completion]:
        """All completions (the same text as the concatenated stream)."""
        engine = self.repository.resolve(model, "Sample")
        params = engine.validate(request)
        return await collect_async(engine.astream(params, call.control), params.n)

    # ---------------------------------------------------------------- Decode / EditLatent
    def latent_engine(self, model: str, family: str) -> LatentEngine:
        return self.repository.resolve(model, family)

    async def decode(self, call: Call, model: str, request: DecodeRequest) -> LatentResult:
        return await drive_async(self.latent_engine(model, "Decode").decode_steps(request))

    async def edit_latent(self, call: Call, engine: LatentEngine, request: EditRequest) -> LatentResult:
        return await drive_async(engine.edit_steps(request))

    # ---------------------------------------------------------------- Dream / Stylize
    async def _submit(self, call: Call, model: str, family: str, build: Callable[[], Any]) -> Job:
        engine = self.repository.resolve(model, family)
        engine.check_room()  # refuse at once when busy, before any image is decoded
        params = await asyncio.get_running_loop().run_in_executor(None, build)  # image decoding off the loop
        submit = engine.submit_dream if family == "Dream" else engine.submit_stylize
        return submit(params, call.control)

    async def _job_events(self, call: Call, job: Job, rpc: str) -> AsyncIterator[Any]:
        steps, done = metrics.JOB_STEPS.labels(rpc), 0
        async for event in job.aevents():
            if isinstance(event, DreamProgress | StylizeProgress):
                steps.inc(max(0, event.step - done))  # merged events count every step they stand for
                done = max(done, event.step)
            yield event

    async def _job_result(self, call: Call, model: str, family: str, build: Callable[[], Any]) -> Any:
        job = await self._submit(call, model, family, build)
        result = None
        async for result in self._job_events(call, job, family):  # noqa: B007 - the last one is the result
            pass
        return result

    async def _job_stream(self, call: Call, model: str, family: str, rpc: str, build) -> AsyncIterator[Any]:
        job = await self._submit(call, model, family, build)
        async for event in self._job_events(call, job, rpc):
            yield event

    async def dream(self, call: Call, model: str, build: Callable[[], DreamParams]) -> DreamResult:
        """``build()`` makes the params (decoding the image) on a worker thread."""
        return await self._job_result(call, model, "Dream", build)

    def dream_stream(self, call: Call, model: str, build: Callable[[], DreamParams]) -> AsyncIterator[Any]:
        """DreamProgress events (merged, newest preview kept, while the reader lags), then the DreamResult."""
        return self._job_stream(call, model, "Dream", "DreamStream", build)

    async def stylize(self, call: Call, model: str, build: Callable[[], StylizeParams]) -> StylizeResult:
        return await self._job_result(call, model, "Stylize", build)

    def stylize_stream(self, call: Call, model: str, build: Callable[[], StylizeParams]) -> AsyncIterator[Any]:
        """StylizeProgress events (merged while the reader lags), then the StylizeResult."""
        return self._job_stream(call, model, "Stylize", "StylizeStream", build)

    # ---------------------------------------------------------------- helpers
    async def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy conversion (decoding or encoding a large image) on a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

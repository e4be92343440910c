"""The engine protocol: what every kind of model offers the dataplane.

A kind's factory (``load(manifest, version_dir, settings)``, registered in
``oneiros_server.engines.registry``) returns an ``EngineSet`` for one model: its info,
one ``Engine`` per RPC family it serves ("Decode", "Sample", ...), warm-up and close.

Every ``Engine`` has the same two steps, whatever the family:

- ``validate(request) -> params``: every check of the request (``FieldError`` naming the
  field, ``WrongModelKind``), once, before admission; the model's defaults filled in.
  Nothing is validated again later.
- ``submit(params, control) -> AsyncIterator[event]``: queue the work (``Overloaded`` at
  once when the queue is full, before the iterator is returned) and iterate its events;
  the last event is the result. Unary calls take the last event; streams forward each
  one. Cancelling ``control`` drops queued work at once and stops running work at its
  next step. Events that stand for optimisation steps expose ``steps_done``.

Requests, params and events are plain Python/numpy types: no protobuf, no grpc.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from oneiros_server.scheduling.control import CallControl


@dataclass
class EngineInfo:
    """Kind-specific metadata shown by ListModels/GetModel."""

    device: str = "cpu"
    vocabulary: str = ""
    latent_size: int = 0
    image_shape: tuple[int, ...] = ()  # (height, width, channels)
    attributes: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    precision: str = ""  # CONVNET: "fp32" or "bf16" (the backbone's), empty elsewhere


class Engine(Protocol):
    """Serves one RPC family of one model (see the module docstring)."""

    def validate(self, request: Any) -> Any:
        """All checks of ``request``, once; returns the params ``submit`` takes."""
        ...

    def submit(self, params: Any, control: CallControl) -> AsyncIterator[Any]:
        """Queue validated ``params`` (``Overloaded`` at once); the events, the last one the result."""
        ...


class EngineSet(Protocol):
    """One loaded model: its info, its engines by RPC family, warm-up and close."""

    info: EngineInfo
    engines: Mapping[str, Engine]

    def warmup(self) -> None:
        """Run once on dummy input so the first request pays no start-up cost."""
        ...

    def close(self) -> None:
        """Stop background threads and free the runtime."""
        ...


@dataclass(frozen=True)
class FamilyEngine:
    """An ``Engine`` made of two callables, for models that serve several families."""

    validate: Callable[[Any], Any]
    submit: Callable[[Any, CallControl], AsyncIterator[Any]]


async def last_event(events: AsyncIterator[Any]) -> Any:
    """The last event of ``events`` (a unary call's result)."""
    result = None
    async for result in events:  # noqa: B007 - the last event is the result
        pass
    return result


def run_to_result(engine: Engine, request: Any, control: CallControl | None = None) -> Any:
    """Validate, submit and wait for the result in this thread, on an event loop of its own
    (warm-up, tests and benchmarks; the server runs engines on its own loop)."""
    params = engine.validate(request)
    return asyncio.run(last_event(engine.submit(params, control or CallControl())))

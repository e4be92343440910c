"""Sampler engines over the tiny GRU and the tiny Transformer, how their outputs compare, and
Sample/SampleStream engine calls read from test threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from oneiros_server.engines.base import last_event
from oneiros_server.engines.language_model.engine import Chunk, Completion, SampleRequest, load
from oneiros_server.scheduling.control import CallControl
from oneiros_server.settings import Settings
from tests.lm_tiny import tiny_manifest, tiny_transformer

LANGUAGE_MODELS = ("tiny-lm", "tiny-transformer")  # the GRU and the Transformer with its cache


def make_engine(model: str = "tiny-lm", **overrides):
    manifest, version_dir = tiny_manifest() if model == "tiny-lm" else tiny_transformer()[1:]
    engine = load(manifest, version_dir, Settings(metrics_port=-1, **overrides))
    engine.warmup()
    return engine


def same_completions(a: list, b: list) -> bool:
    """Equal texts, reasons and counts; entropies equal to float rounding (a batched Transformer
    step adds its numbers in another order than a step alone: logits agree to ~1e-6)."""
    key = [(c.index, c.text, c.finish_reason, c.token_count) for c in a]
    return key == [(c.index, c.text, c.finish_reason, c.token_count) for c in b] and all(
        x.mean_entropy_bits == pytest.approx(y.mean_entropy_bits, rel=1e-6) for x, y in zip(a, b, strict=True)
    )


def _loop() -> asyncio.AbstractEventLoop:
    """One event loop on a thread of its own for the engine's readers (as the server's loop is)."""
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        threading.Thread(target=_LOOP.run_forever, name="test-loop", daemon=True).start()
    return _LOOP


_LOOP: asyncio.AbstractEventLoop | None = None


def sample(engine, request: SampleRequest, control: CallControl) -> list[Completion]:
    """Every completion of ``request`` (the Sample RPC's engine call), waited for in this thread."""
    events = engine.submit(engine.validate(replace(request, stream=False)), control)
    return asyncio.run_coroutine_threadsafe(last_event(events), _loop()).result().completions


def stream(engine, request: SampleRequest, control: CallControl) -> Iterator[Chunk]:
    """The chunks of ``request`` (SampleStream's engine call), read in this thread; submitted now.
    Closing the iterator before the end cancels the call, as a client that goes away does."""
    events = engine.submit(engine.validate(replace(request, stream=True)), control)
    return _read(events, control)


def _read(events: AsyncIterator[Chunk], control: CallControl) -> Iterator[Chunk]:
    finished = False
    try:
        while True:
            try:
                yield asyncio.run_coroutine_threadsafe(anext(events), _loop()).result()
            except StopAsyncIteration:
                finished = True
                return
    finally:
        if not finished:
            control.cancel()

"""ONNX Runtime sessions, created one way for every engine, and batched runs over them."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.dynamic import DynamicBatcher
from oneiros_server.scheduling.loop import LoopBatcher
from oneiros_server.settings import Settings

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def providers_for(settings: Settings) -> list[str]:
    """CUDA first when it is present and ``settings.device`` allows it, else CPU only."""
    available = ort.get_available_providers()
    if settings.device in ("auto", "cuda") and CUDA in available:
        return [CUDA, CPU]
    if settings.device == "cuda":
        log.warning("device=cuda but ONNX Runtime has no CUDA provider (%s); using the CPU", available)
    return [CPU]


def create_session(path: Path, settings: Settings) -> ort.InferenceSession:
    """An inference session for ``path`` with the settings' device and thread count.

    The intra-op pool has ``settings.ort_threads`` threads (0 = ONNX Runtime's default)
    that never spin: spinning workers fight the event loop and the clients for cores.
    """
    options = ort.SessionOptions()
    if settings.ort_threads:
        options.intra_op_num_threads = settings.ort_threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=providers_for(settings))


def device_of(session: ort.InferenceSession) -> str:
    """ "cuda" when the session runs on the GPU, else "cpu"."""
    return "cuda" if session.get_providers()[0] == CUDA else "cpu"


class OnnxRunner:
    """One ONNX graph: one batched input, one wanted output.

    ``run(x)`` takes a batch ``(N, ...)``. With ``settings.batching`` concurrent calls are
    coalesced into one session run (and split back) on the runner's own thread: calls
    from coroutines (``run_async``) by a ``LoopBatcher`` (one thread hand-off per batch),
    calls from threads (``run``) by a ``DynamicBatcher``. Without batching each call runs
    alone in the caller's thread (for a coroutine: on the event loop itself).
    """

    def __init__(self, path: Path, settings: Settings, name: str, input_name: str, output_name: str):
        self.session = create_session(path, settings)
        self.device = device_of(self.session)
        self.input_name = input_name
        self.output_name = output_name
        self.settings = settings
        self.name = name
        self.calls = 0  # session runs, for tests and metrics
        self.batcher: DynamicBatcher | None = None  # made on first use from a thread
        self.loop_batcher: LoopBatcher | None = None
        if settings.batching:
            self.loop_batcher = LoopBatcher(
                self._run_batch,
                name=name,
                max_size=settings.batch_max_size,
                max_queue=settings.batch_queue_size,
                on_loop=settings.batch_on_loop,
            )

    def _session_run(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.session.run([self.output_name], {self.input_name: x})[0]

    def _run_batch(self, items: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = self._session_run(np.concatenate(items) if len(items) > 1 else items[0])
        return np.split(out, np.cumsum([len(x) for x in items])[:-1])

    def run(self, x: np.ndarray, control: CallControl | None = None) -> np.ndarray:
        """(N, ...) float32 -> the output (N, ...), waiting in this thread."""
        if not self.settings.batching:
            return self._session_run(x)
        if self.batcher is None:
            self.batcher = DynamicBatcher(
                self._run_batch,
                name=self.name,
                max_size=self.settings.batch_max_size,
                max_delay_s=self.settings.batch_max_delay_ms / 1000.0,
                max_queue=self.settings.batch_queue_size,
            )
        return self.batcher.run(x, size=len(x), control=control)

    async def run_async(self, x: np.ndarray) -> np.ndarray:
        """``run`` for a coroutine: cancelling it drops a queued ``x`` at once."""
        if self.loop_batcher is None:
            return self._session_run(x)
        return await self.loop_batcher.run(x, size=len(x))

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        if self.loop_batcher is not None:
            self.loop_batcher.close()


# An engine's short call as a generator: it yields (runner, input) for each runtime call and
# is sent the output back, then returns its result. ``drive`` runs one in a thread,
# ``drive_async`` in a coroutine, so the engine's code is written once.
RuntimeSteps = Generator[tuple[OnnxRunner, np.ndarray], np.ndarray, Any]


def drive(steps: RuntimeSteps, control: CallControl | None = None) -> Any:
    """Run ``steps`` in this thread, blocking on each runtime call."""
    try:
        runner, x = next(steps)
        while True:
            runner, x = steps.send(runner.run(x, control))
    except StopIteration as stop:
        return stop.value


async def drive_async(steps: RuntimeSteps) -> Any:
    """Run ``steps`` in a coroutine, awaiting each runtime call."""
    try:
        runner, x = next(steps)
        while True:
            runner, x = steps.send(await runner.run_async(x))
    except StopIteration as stop:
        return stop.value

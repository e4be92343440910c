"""ONNX Runtime sessions, created one way for every engine, and runs over them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from oneiros_server.observability import tracing
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


def create_session(path: Path, settings: Settings, intra_op_threads: int | None = None) -> ort.InferenceSession:
    """An inference session for ``path`` with the settings' device and thread count.

    The intra-op pool has ``intra_op_threads`` threads if given (a model's own choice), else
    ``settings.ort_threads`` (0 = ONNX Runtime's default, a thread per core); they never
    spin: spinning workers fight the event loop and the clients for cores.
    """
    options = ort.SessionOptions()
    threads = settings.ort_threads if intra_op_threads is None else intra_op_threads
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=providers_for(settings))


def device_of(session: ort.InferenceSession) -> str:
    """ "cuda" when the session runs on the GPU, else "cpu"."""
    return "cuda" if session.get_providers()[0] == CUDA else "cpu"


class OnnxRunner:
    """One ONNX graph: one batched input, one wanted output, run in the caller's thread.

    ``run(x)`` takes a batch ``(N, ...)``; ``run_batch(items)`` runs several callers' inputs
    as one session run and splits the output back (what a batcher in
    ``oneiros_server.scheduling`` calls).
    """

    def __init__(self, path: Path, settings: Settings, name: str, input_name: str, output_name: str):
        self.session = create_session(path, settings)
        self.device = device_of(self.session)
        self.input_name = input_name
        self.output_name = output_name
        self.name = name
        self.calls = 0  # session runs, for tests and metrics

    def run(self, x: np.ndarray) -> np.ndarray:
        """(N, ...) float32 -> the output (N, ...)."""
        self.calls += 1
        with tracing.span("onnxruntime.run", {"oneiros.runtime.graph": self.name, "oneiros.batch.rows": len(x)}):
            return self.session.run([self.output_name], {self.input_name: x})[0]

    def run_batch(self, items: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Several inputs as one run; one output per input."""
        out = self.run(np.concatenate(items) if len(items) > 1 else items[0])
        return np.split(out, np.cumsum([len(x) for x in items])[:-1])

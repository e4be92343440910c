"""Language-model engine: validated Sample requests -> text, one ONNX step per character.

The model is the graph ``export/charlm.py`` writes: ``ids`` (B, T) and ``state``
(L, B, H) in, next-token ``logits`` (B, V) and ``state_out`` out. A request is
prefilled with its prompt in one call; then every active sequence of the model
advances together, one ONNX Runtime call per step (``oneiros_server.continuous``), or, with
``batching`` off, each request runs its own loop in the caller's thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from oneiros_server import metrics
from oneiros_server.continuous import ContinuousBatcher
from oneiros_server.control import CallControl
from oneiros_server.engines.base import EngineInfo
from oneiros_server.engines.generation import (
    Chunk,
    Completion,
    Generation,
    Row,
    SampleParams,
    SampleRequest,
    collect,
)
from oneiros_server.engines.sampling import distributions, draw, entropy_bits
from oneiros_server.errors import FieldError, Violation
from oneiros_server.repository.manifest import Manifest
from oneiros_server.settings import Settings

__all__ = ["Chunk", "Completion", "SampleRequest", "SamplerEngine", "load"]


def _session(path: Path, settings: Settings):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.ort_threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class SamplerEngine:
    """Samples text from one character language model (see ``sample`` and ``stream``)."""

    def __init__(self, manifest: Manifest, session, settings: Settings):
        spec = manifest.spec
        self.name = manifest.name
        self.vocab: str = spec.get("vocabulary", "")
        if not self.vocab:
            raise ValueError("the model's vocabulary is empty")
        self.index = {c: i for i, c in enumerate(self.vocab)}
        special = spec.get("special_tokens") or {}
        self.bos: str = special.get("bos") or ""
        self.unknown: str | None = special.get("unknown")
        state = spec["state"]
        self.state_in, self.state_out = state["input"], state["output"]
        self.layers, _, self.hidden = state["shape"]
        self.defaults = manifest.parameters
        self.settings = settings
        self.session = session
        self.info = EngineInfo(device="cpu", vocabulary=self.vocab)
        self.batcher = None
        if settings.batching:
            self.batcher = ContinuousBatcher(
                self._start,
                self._step,
                name=f"sample-{self.name}",
                max_size=settings.batch_max_size,
                max_queue=settings.batch_queue_size,
                on_step=self._observe,
                on_admit=lambda size, waited: metrics.observe_batch(f"sample-{self.name}", size, waited),
            )

    # ---------------------------------------------------------------- public
    def validate(self, request: SampleRequest) -> SampleParams:
        """Fill in the model's defaults; FieldError naming the field if anything is out of range."""
        s, d = self.settings, self.defaults
        errors: list[Violation] = []
        prompt = request.prompt
        if len(prompt) > s.sample_max_prompt_chars:
            errors.append(Violation("prompt", f"at most {s.sample_max_prompt_chars} characters"))
        unknown = sorted(set(prompt) - set(self.vocab))
        if unknown and self.unknown is None:
            shown = ", ".join(repr(c) for c in unknown[:20])
            errors.append(
                Violation(
                    "prompt", f"characters not in the model's vocabulary: {shown}; the vocabulary is {self.vocab!r}"
                )
            )
        elif unknown:
            prompt = "".join(c if c in self.index else self.unknown for c in prompt)
        max_tokens = request.max_tokens or int(d.get("max_tokens", 200))
        if not 0 <= request.max_tokens <= s.sample_max_tokens:
            errors.append(
                Violation(
                    "max_tokens", f"must be in [0, {s.sample_max_tokens}] (0 = the model's default; the server's cap)"
                )
            )
        max_tokens = min(max_tokens, s.sample_max_tokens)
        temperature = float(d.get("temperature", 1.0)) if request.temperature is None else request.temperature
        if not (math.isfinite(temperature) and 0 <= temperature <= 100):
            errors.append(Violation("temperature", "must be in [0, 100] (0 = greedy)"))
        top_k = request.top_k or int(d.get("top_k", 0))
        if request.top_k < 0:
            errors.append(Violation("top_k", "must be >= 0 (0 = the model's default; its default 0 = off)"))
        top_p = float(d.get("top_p", 1.0)) if request.top_p is None else request.top_p
        if not (math.isfinite(top_p) and 0 < top_p <= 1):
            errors.append(Violation("top_p", "must be in (0, 1]"))
        n = request.n or int(d.get("n", 1))
        if not 0 <= request.n <= s.sample_max_n:
            errors.append(Violation("n", f"must be in [0, {s.sample_max_n}] (0 = 1)"))
        if len(request.stop) > s.sample_max_stop:
            errors.append(Violation("stop", f"at most {s.sample_max_stop} stop sequences"))
        for i, stop in enumerate(request.stop):
            if not 0 < len(stop) <= 64:
                errors.append(Violation(f"stop[{i}]", "must be 1 to 64 characters"))
        if errors:
            raise FieldError(errors[0].field, errors[0].description, *errors[1:])
        return SampleParams(prompt, max_tokens, temperature, top_k, top_p, request.seed, tuple(request.stop), n)

    def stream(self, request: SampleRequest, control: CallControl) -> Iterator[Chunk]:
        """Chunks of new text as they are produced (``Chunk.index`` = which completion)."""
        generation = Generation.create(self.validate(request), control, self.settings.sample_stream_flush_ms / 1e3)
        if self.batcher is None:
            return self._run_alone(generation)
        self.batcher.submit(generation, size=generation.params.n)
        return generation.chunks()

    def sample(self, request: SampleRequest, control: CallControl) -> list[Completion]:
        """All completions of ``request`` (same text as the concatenated stream)."""
        params = self.validate(request)
        return collect(self.stream(request, control), params.n)

    @property
    def active(self) -> int:
        """Sequences advancing in the continuous batch now."""
        return self.batcher.active if self.batcher is not None else 0

    def warmup(self) -> None:
        control = CallControl.with_timeout(30)
        self.sample(SampleRequest(prompt="", max_tokens=4, seed=0, temperature=1.0), control)

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()

    # ---------------------------------------------------------------- stepping
    def _run_alone(self, generation: Generation) -> Iterator[Chunk]:
        self._start([generation])
        sent = time.monotonic()
        while True:
            if generation.finished or time.monotonic() - sent >= generation.flush_s:
                chunks = generation.drain()
                if chunks:
                    yield from chunks
                    sent = time.monotonic()
            if generation.finished:
                return
            generation.control.check()
            self._step([generation])

    def _start(self, generations: Sequence[Generation]) -> None:
        """Prefill: one call per new request over BOS + prompt; then sample its first tokens."""
        for g in generations:
            ids = np.array([[self.index[c] for c in self.bos + g.params.prompt]], dtype=np.int64)
            if ids.shape[1] == 0:  # no BOS and no prompt: start from the uniform-ish zero state
                ids = np.zeros((1, 1), dtype=np.int64)
            zeros = np.zeros((self.layers, 1, self.hidden), dtype=np.float32)
            logits, state = self.session.run(None, {"ids": ids, self.state_in: zeros})
            for row in g.rows:
                row.state = state
            self._advance([(g, r) for r in g.rows], np.repeat(logits, len(g.rows), axis=0))

    def _step(self, generations: Sequence[Generation]) -> None:
        """One ONNX call advances every live row of every generation by one token."""
        rows = [(g, r) for g in generations for r in g.live]
        if not rows:
            return
        ids = np.array([[r.last] for _, r in rows], dtype=np.int64)  # (B, 1)
        state = np.concatenate([r.state for _, r in rows], axis=1)  # (L, B, H)
        logits, state = self.session.run(None, {"ids": ids, self.state_in: state})
        for i, (_, r) in enumerate(rows):
            r.state = state[:, i : i + 1]
        self._advance(rows, logits)

    def _advance(self, rows: list[tuple[Generation, Row]], logits: np.ndarray) -> None:
        params = [g.params for g, _ in rows]
        probs = distributions(
            logits,
            np.array([p.temperature for p in params]),
            np.array([p.top_k for p in params]),
            np.array([p.top_p for p in params]),
        )  # (B, V)
        entropy = entropy_bits(probs)  # (B,)
        tokens = draw(probs, [r.rng for _, r in rows])  # (B,)
        vocab = self.vocab
        for (g, r), token, h in zip(rows, tokens.tolist(), entropy.tolist()):
            g.accept(r, token, vocab[token], h)
        metrics.observe_tokens(self.name, len(rows))

    def _observe(self, active: int, left: int) -> None:
        metrics.observe_sequences(self.name, active)


def load(manifest: Manifest, version_dir: Path, settings: Settings) -> SamplerEngine:
    """Engine factory (``oneiros_server.engines.ENGINES``): the ONNX step graph of ``files.step``."""
    return SamplerEngine(manifest, _session(version_dir / manifest.files["step"].path, settings), settings)

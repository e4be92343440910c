"""Language-model engine: validated Sample requests -> text, one ONNX step per character.

The model is a step graph wrapped as a ``StepRuntime``: the GRU of ``export/oneiros_export/charlm.py``
(``files.step``, ``oneiros_server.runtime.gru``), the Transformer of
``export/oneiros_export/transformer.py`` with its key/value cache (``files.kv_step``,
``oneiros_server.runtime.transformer``), or an imported model with no state that reads a fixed
window of tokens (``files.window``, ``oneiros_server.runtime.window``). Every request goes through the continuous batcher
(``oneiros_server.scheduling.continuous``): prompts are prefilled in chunks between decode
steps, every active sequence advances in one ONNX Runtime call per step, and the
whole batch is sampled at once (vectorised temperature, top-k, top-p and draws;
each row keeps its own random stream). With ``batching`` off the batcher runs one
request at a time.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from oneiros_server.engines.base import EngineInfo, run_to_result
from oneiros_server.engines.language_model.generation import (
    Chunk,
    Completion,
    Generation,
    Row,
    SampleParams,
    SampleRequest,
    SampleResult,
    collect,
)
from oneiros_server.engines.language_model.sampling import distributions, draw_with, entropy_bits, uniforms
from oneiros_server.errors import FieldError, Violation
from oneiros_server.observability import metrics
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.gru import GruRuntime
from oneiros_server.runtime.onnx import create_session, device_of
from oneiros_server.runtime.transformer import TransformerRuntime
from oneiros_server.runtime.window import WindowRuntime
from oneiros_server.scheduling.continuous import ContinuousBatcher, StepRuntime
from oneiros_server.scheduling.control import CallControl
from oneiros_server.settings import Settings
from oneiros_server.specs import LanguageModelSpec

__all__ = ["Chunk", "Completion", "SampleRequest", "SampleResult", "SamplerEngine", "load"]


class SamplerEngine:
    """Samples text from one character language model: the ``Sample`` engine (``validate``, ``submit``)."""

    def __init__(self, manifest: Manifest, runtime: StepRuntime, settings: Settings, device: str = "cpu"):
        spec = manifest.spec
        self.name = manifest.name
        self.vocab: str = spec.get("vocabulary", "")
        if not self.vocab:
            raise ValueError("the model's vocabulary is empty")
        self.index = {c: i for i, c in enumerate(self.vocab)}
        special = spec.get("special_tokens") or {}
        self.bos: str = special.get("bos") or ""
        self.unknown: str | None = special.get("unknown")
        self.defaults = manifest.parameters
        self.settings = settings
        self.info = EngineInfo(device=device, vocabulary=self.vocab)
        self.runtime = runtime
        self.batcher = ContinuousBatcher(
            self.runtime,
            self._sample,
            name=f"sample-{self.name}",
            max_rows=settings.batch_max_size if settings.batching else 1,
            max_queue=settings.batch_queue_size,
            prefill_chunk=settings.sample_prefill_chunk,
            prefill_budget=settings.sample_prefill_chunk * 2,
            on_step=self._observe,
            max_wait_s=settings.batch_max_queue_wait_s,
        )
        self.engines = {"Sample": self}
        self._tokens = metrics.TOKENS.labels(self.name)
        self._sequences = metrics.SEQUENCES_ACTIVE.labels(self.name)

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
        stop = tuple(request.stop)
        return SampleParams(prompt, max_tokens, temperature, top_k, top_p, request.seed, stop, n, request.stream)

    def submit(self, params: SampleParams, control: CallControl) -> AsyncIterator[Chunk | SampleResult]:
        """Queue validated ``params`` (Overloaded at once at capacity). With ``params.stream`` the
        events are ``Chunk``s of new text (``Chunk.index`` = which completion), merged per
        completion while the reader lags; without, one ``SampleResult``. Cancelling ``control``
        frees the queue slot at once (a running generation leaves at the next step)."""
        ids = [self.index[c] for c in self.bos + params.prompt] or [0]  # no BOS, no prompt: token 0
        if self.runtime.reach is not None:
            ids = ids[-self.runtime.reach :]  # what lies further back cannot change the text
        generation = Generation.create(
            params, control, np.array(ids, dtype=np.int64), self.settings.sample_stream_flush_ms / 1e3
        )
        self.batcher.submit(generation, size=params.n)
        control.on_cancel(lambda: self._cancel(generation))
        chunks = generation.achunks()
        return chunks if params.stream else self._result(chunks, params.n)

    async def _result(self, chunks: AsyncIterator[Chunk], n: int) -> AsyncIterator[SampleResult]:
        yield SampleResult(await collect(chunks, n), self.name)

    def _cancel(self, generation: Generation) -> None:
        self.batcher.cancel(generation)
        generation.output.close(generation.control.error())

    @property
    def active(self) -> int:
        """Sequences advancing in the continuous batch now."""
        return self.batcher.active

    def warmup(self) -> None:
        request = SampleRequest(prompt="", max_tokens=4, seed=0, temperature=1.0, stream=False)
        run_to_result(self, request, CallControl.with_timeout(30))

    def close(self) -> None:
        self.batcher.close()

    # ---------------------------------------------------------------- sampling
    def _sample(self, rows: list[tuple[Generation, Row]], logits: np.ndarray) -> None:
        """Pick the next token of every row at once; each row draws from its own stream."""
        count = len(rows)
        params = [g.params for g, _ in rows]
        probs = distributions(
            logits,
            np.fromiter((p.temperature for p in params), np.float64, count),
            np.fromiter((p.top_k for p in params), np.int64, count),
            np.fromiter((p.top_p for p in params), np.float64, count),
        )  # (B, V)
        entropy = entropy_bits(probs)  # (B,)
        u = uniforms(
            np.fromiter((r.key for _, r in rows), np.uint64, count),
            np.fromiter((r.tokens for _, r in rows), np.uint64, count),
        )
        tokens = draw_with(probs, u)  # (B,)
        vocab = self.vocab
        for (g, r), token, h in zip(rows, tokens.tolist(), entropy.tolist(), strict=True):
            g.accept(r, token, vocab[token], h)
        self._tokens.inc(count)

    def _observe(self, active: int) -> None:
        self._sequences.set(active)


def load(manifest: Manifest, version_dir: Path, settings: Settings) -> SamplerEngine:
    """Factory of kind LANGUAGE_MODEL (``oneiros_server.engines.registry``): a GRU ``files.step``, a
    Transformer ``files.kv_step``, or a stateless graph over a fixed window ``files.window``."""
    files = manifest.files
    spec = LanguageModelSpec.model_validate(manifest.spec)
    role = spec.step_role(files)
    session = create_session(version_dir / files[role].path, settings)
    runtime: StepRuntime
    if role == "kv_step":
        runtime = TransformerRuntime.from_spec(session, manifest.spec)
    elif role == "step":
        runtime = GruRuntime.from_spec(session, manifest.spec)
    else:
        runtime = WindowRuntime.from_spec(session, spec)
    return SamplerEngine(manifest, runtime, settings, device_of(session))

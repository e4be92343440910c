"""One Sample request in flight: its completions (rows), their random streams, stops and output.

Plain Python; the sampler engine fills it step by step (on the batcher's thread)
and the reader (a coroutine) takes its chunks from a one-slot buffer (``oneiros_server.scheduling.handoff``):
while the reader keeps up, each piece goes out at once; when it lags, the pieces
that piled up go out merged, one chunk per completion. Each row is one completion
with its own random stream (key + counter) and stop matcher, so its text never
depends on the other sequences of the batch.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from oneiros_server.engines.language_model.sampling import StopText, stream_key
from oneiros_server.errors import ShuttingDown
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.handoff import Closed, OneSlot

LENGTH, STOP, CANCELLED = "LENGTH", "STOP", "CANCELLED"


@dataclass(frozen=True)
class SampleRequest:
    """A Sample request as plain values; unset fields are None or 0 (= the model's default)."""

    prompt: str = ""
    max_tokens: int = 0
    temperature: float | None = None
    top_k: int = 0
    top_p: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 0
    stream: bool = True  # events: Chunks as they come (SampleStream), or one SampleResult (Sample)


@dataclass(frozen=True)
class SampleParams:
    """A validated request with the model's defaults filled in."""

    prompt: str
    max_tokens: int
    temperature: float
    top_k: int
    top_p: float
    seed: int | None
    stop: tuple[str, ...]
    n: int
    stream: bool = True


@dataclass(frozen=True)
class Chunk:
    """New text of completion ``index``; the last chunk of a completion has ``finish_reason``."""

    index: int
    text: str
    finish_reason: str | None = None
    token_count: int = 0
    mean_entropy_bits: float = 0.0


@dataclass(frozen=True)
class Completion:
    index: int
    text: str
    finish_reason: str
    token_count: int
    mean_entropy_bits: float


@dataclass(frozen=True)
class SampleResult:
    """Every completion of a Sample request, and the model that wrote them."""

    completions: list[Completion]
    model: str


@dataclass(eq=False)
class Row:
    index: int
    key: int  # the random stream of this completion
    stop: StopText
    seq_id: int = -1  # the step runtime's id for this row's state
    last: int = 0  # the token fed at the next step
    tokens: int = 0
    entropy: float = 0.0
    finish_reason: str | None = None

    @property
    def mean_entropy(self) -> float:
        return self.entropy / self.tokens if self.tokens else 0.0


Pending = dict[int, Chunk]  # completion index -> its merged new text


def merge(pending: Pending | None, chunk: Chunk) -> Pending:
    """Append ``chunk`` to what the reader has not taken yet (one chunk per completion)."""
    if pending is None:
        return {chunk.index: chunk}
    last = pending.get(chunk.index)
    if last is None:
        pending[chunk.index] = chunk
    else:
        pending[chunk.index] = Chunk(
            chunk.index, last.text + chunk.text, chunk.finish_reason, chunk.token_count, chunk.mean_entropy_bits
        )
    return pending


def _urgent(pending: Pending) -> bool:
    return any(c.finish_reason is not None for c in pending.values())


@dataclass(eq=False)
class Generation:
    """All ``n`` completions of one request; the unit the continuous batcher schedules."""

    params: SampleParams
    control: CallControl
    prompt: np.ndarray  # (T,) int64 token ids fed before the first draw
    rows: list[Row] = field(default_factory=list)
    flush_s: float = 0.0  # hold a lagging completion's pieces this long into one chunk
    output: OneSlot = field(default_factory=lambda: OneSlot(merge, _urgent))

    @classmethod
    def create(cls, params: SampleParams, control: CallControl, prompt: np.ndarray, flush_s: float = 0.0):
        rows = [Row(i, stream_key(params.seed, i), StopText(params.stop)) for i in range(params.n)]
        return cls(params, control, prompt, rows, flush_s=flush_s)

    @property
    def finished(self) -> bool:
        return all(r.finish_reason is not None for r in self.rows)

    def accept(self, row: Row, token: int, char: str, entropy: float) -> None:
        """Row ``row`` produced ``token``; hand on what may be shown and finish if done."""
        row.last, row.tokens, row.entropy = token, row.tokens + 1, row.entropy + entropy
        visible, stopped = row.stop.push(char)
        if stopped:
            self._finish(row, STOP, visible)
        elif row.tokens >= self.params.max_tokens:
            self._finish(row, LENGTH, visible + row.stop.flush())
        elif visible:
            self.output.put(Chunk(row.index, visible))

    def _finish(self, row: Row, reason: str, text: str) -> None:
        row.finish_reason = reason
        self.output.put(Chunk(row.index, text, reason, row.tokens, row.mean_entropy))
        if self.finished:
            self.output.close()

    def abort(self, exc: BaseException) -> None:
        """Stop every row: on shutdown they end with CANCELLED, otherwise the error is raised."""
        live = [r for r in self.rows if r.finish_reason is None]
        if isinstance(exc, ShuttingDown):
            for row in live:
                self._finish(row, CANCELLED, row.stop.flush())
        else:
            for row in live:
                row.finish_reason = CANCELLED
            self.output.close(exc)

    def _hold(self, sent: float) -> float:
        return sent + self.flush_s if self.flush_s and sent else 0.0

    async def achunks(self) -> AsyncIterator[Chunk]:
        """The chunks in order, for a coroutine; raises the call's error if it stops."""
        sent = 0.0
        while True:
            try:
                pending = await self.output.get(self._hold(sent))
            except Closed:
                return
            sent = time.monotonic()
            for chunk in pending.values():
                yield chunk


async def collect(chunks: AsyncIterator[Chunk], n: int) -> list[Completion]:
    """Concatenate the chunks of each completion into ``n`` Completions."""
    texts: list[list[str]] = [[] for _ in range(n)]
    last: list[Chunk | None] = [None] * n
    async for chunk in chunks:
        texts[chunk.index].append(chunk.text)
        if chunk.finish_reason is not None:
            last[chunk.index] = chunk
    return [
        Completion(i, "".join(texts[i]), c.finish_reason, c.token_count, c.mean_entropy_bits)
        for i, c in enumerate(last)
        if c is not None
    ]

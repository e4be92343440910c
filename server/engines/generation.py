"""One Sample request in flight: its completions (rows), their RNGs, stops and output queue.

Plain Python; the sampler engine fills it step by step and the transport reads its
chunks. Each row is one completion: its own GRU state, random generator and stop
matcher, so its text never depends on the other sequences of the batch.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from oneiros_server.control import CallControl
from oneiros_server.engines.sampling import StopText, rng_for
from oneiros_server.errors import ShuttingDown

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


@dataclass
class Row:
    index: int
    rng: np.random.Generator
    stop: StopText
    state: np.ndarray | None = None  # (L, 1, H)
    last: int = 0  # the token fed at the next step
    tokens: int = 0
    entropy: float = 0.0
    finish_reason: str | None = None

    @property
    def mean_entropy(self) -> float:
        return self.entropy / self.tokens if self.tokens else 0.0


@dataclass
class Generation:
    """All ``n`` completions of one request; the unit the continuous batcher schedules."""

    params: SampleParams
    control: CallControl
    rows: list[Row] = field(default_factory=list)
    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    abandoned: bool = False  # the caller stopped reading
    flush_s: float = 0.0  # gather a completion's pieces for this long into one chunk

    @classmethod
    def create(cls, params: SampleParams, control: CallControl, flush_s: float = 0.0) -> Generation:
        rows = [Row(i, rng_for(params.seed, i), StopText(params.stop)) for i in range(params.n)]
        return cls(params, control, rows, flush_s=flush_s)

    @property
    def finished(self) -> bool:
        return all(r.finish_reason is not None for r in self.rows)

    @property
    def live(self) -> list[Row]:
        return [r for r in self.rows if r.finish_reason is None]

    def accept(self, row: Row, token: int, char: str, entropy: float) -> None:
        """Row ``row`` produced ``token``; emit what may be shown and finish if done."""
        row.last, row.tokens, row.entropy = token, row.tokens + 1, row.entropy + entropy
        visible, stopped = row.stop.push(char)
        if stopped:
            self._finish(row, STOP, visible)
        elif row.tokens >= self.params.max_tokens:
            self._finish(row, LENGTH, visible + row.stop.flush())
        elif visible:
            self.events.put(Chunk(row.index, visible))

    def _finish(self, row: Row, reason: str, text: str) -> None:
        row.finish_reason, row.state = reason, None
        self.events.put(Chunk(row.index, text, reason, row.tokens, row.mean_entropy))

    def abort(self, exc: BaseException) -> None:
        """Stop every row: on shutdown they end with CANCELLED, otherwise the error is raised."""
        if isinstance(exc, ShuttingDown):
            for row in self.live:
                self._finish(row, CANCELLED, row.stop.flush())
        else:
            for row in self.live:
                row.finish_reason, row.state = CANCELLED, None
            self.events.put(exc)

    def drain(self) -> list[Chunk]:
        """Everything queued now, consecutive pieces of one completion merged (caller-driven loops)."""
        out: list[Chunk] = []
        while not self.events.empty():
            event = self.events.get()
            if isinstance(event, BaseException):
                raise event
            last = out[-1] if out else None
            if last is not None and last.index == event.index and last.finish_reason is None:
                out[-1] = Chunk(
                    event.index, last.text + event.text, event.finish_reason, event.token_count, event.mean_entropy_bits
                )
            else:
                out.append(event)
        return out

    def chunks(self, poll_s: float = 0.05) -> Iterator[Chunk]:
        """The chunks in order as they are produced; raises the call's error if it stops.

        Consecutive pieces of one completion that are already waiting, or that arrive
        within ``flush_s`` of the first, are merged into one chunk (fewer, larger
        messages under load).
        """
        remaining, held, started = self.params.n, None, set()
        try:
            while remaining:
                if held is not None:
                    event, held = held, None
                else:
                    try:
                        event = self.events.get(timeout=poll_s)
                    except queue.Empty:
                        self.control.check()
                        continue
                if isinstance(event, BaseException):
                    raise event
                gather_until = time.monotonic() + (self.flush_s if event.index in started else 0.0)
                started.add(event.index)  # a completion's first piece goes out at once
                while event.finish_reason is None:
                    wait = gather_until - time.monotonic()
                    try:
                        more = self.events.get(timeout=wait) if wait > 0 else self.events.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(more, BaseException) or more.index != event.index:
                        held = more
                        break
                    event = Chunk(
                        event.index,
                        event.text + more.text,
                        more.finish_reason,
                        more.token_count,
                        more.mean_entropy_bits,
                    )
                if event.finish_reason is not None:
                    remaining -= 1
                yield event
        finally:
            if remaining:
                self.abandoned = True


def collect(chunks: Iterator[Chunk], n: int) -> list[Completion]:
    """Concatenate the chunks of each completion into ``n`` Completions."""
    texts, last = [[] for _ in range(n)], [None] * n
    for chunk in chunks:
        texts[chunk.index].append(chunk.text)
        if chunk.finish_reason is not None:
            last[chunk.index] = chunk
    return [
        Completion(i, "".join(texts[i]), c.finish_reason, c.token_count, c.mean_entropy_bits)
        for i, c in enumerate(last)
    ]

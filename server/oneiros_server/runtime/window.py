"""A language model with no state outputs as a ``StepRuntime`` (``oneiros_server.scheduling.continuous``).

The graph (``files.window``; what ``oneiros-export keras --as char-lm`` writes for the chapter's
LSTM) reads the last ``length`` tokens, as integer ids (B, W) or one-hot rows (B, W, V), and
gives the next token's distribution (B, V), as logits or as a softmax's probabilities (turned
into log-probabilities here: the sampler takes either). The runtime keeps each sequence's last
W tokens and re-feeds the whole window every step, so a step costs one full run of the
graph: W times the work of a step graph with state. Shorter contexts are padded on the left
(with ``pad`` ids, or all-zero one-hot rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from oneiros_server.specs import LanguageModelSpec

TINY = 1e-30  # log(0) guard for a softmax that underflowed


class WindowRuntime:
    """Per-sequence token windows behind ``prefill``/``decode``/``fork``/``release``."""

    def __init__(
        self,
        session,
        length: int,
        vocabulary_size: int,
        input_name: str = "ids",
        output_name: str = "next",
        one_hot: bool = False,
        token_dtype: str = "int64",
        pad: int = 0,
        probabilities: bool = False,
    ):
        self.session = session
        self.length, self.vocabulary_size = length, vocabulary_size
        self.input_name, self.output_name = input_name, output_name
        self.one_hot, self.dtype, self.pad = one_hot, np.dtype(token_dtype), pad
        self.probabilities = probabilities
        self.reach = length  # tokens further back never reach the graph
        self.windows: dict[int, np.ndarray] = {}  # seq id -> (W,) int64, left-padded with -1

    @classmethod
    def from_spec(cls, session, spec: LanguageModelSpec) -> WindowRuntime:
        """Build from ``model.json``'s ``spec.window`` (a spec without one is a ValueError)."""
        if spec.window is None:
            raise ValueError("files.window needs spec.window")
        w = spec.window
        return cls(
            session,
            w.length,
            len(spec.vocabulary),
            w.input,
            w.output,
            one_hot=w.encoding == "one_hot",
            token_dtype=spec.token_dtype,
            pad=w.pad,
            probabilities=spec.distribution == "probabilities",
        )

    def _feed(self, windows: np.ndarray) -> np.ndarray:
        """(B, W) ids with -1 for padding -> (B, V) logits or log-probabilities."""
        if self.one_hot:
            x = np.zeros((*windows.shape, self.vocabulary_size), np.float32)  # (B, W, V)
            rows, cols = np.nonzero(windows >= 0)
            x[rows, cols, windows[rows, cols]] = 1.0
        else:
            x = np.where(windows >= 0, windows, self.pad).astype(self.dtype)  # (B, W)
        out = self.session.run([self.output_name], {self.input_name: x})[0]  # (B, V)
        return np.log(np.maximum(out, TINY)) if self.probabilities else out

    def _push(self, seq_id: int, tokens: np.ndarray) -> np.ndarray:
        window = self.windows.get(seq_id)
        if window is None:
            window = np.full(self.length, -1, np.int64)
        window = np.concatenate([window, tokens.astype(np.int64)])[-self.length :]
        self.windows[seq_id] = window
        return window

    def prefill(self, seq_ids: Sequence[int], chunks: Sequence[np.ndarray]) -> np.ndarray:
        return self._feed(np.stack([self._push(s, c) for s, c in zip(seq_ids, chunks, strict=True)]))

    def decode(self, seq_ids: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        return self._feed(np.stack([self._push(s, t.reshape(1)) for s, t in zip(seq_ids, tokens, strict=True)]))

    def fork(self, seq_id: int, new_ids: Sequence[int]) -> None:
        for s in new_ids:
            self.windows[s] = self.windows[seq_id].copy()

    def release(self, seq_ids: Sequence[int]) -> None:
        for s in seq_ids:
            self.windows.pop(s, None)

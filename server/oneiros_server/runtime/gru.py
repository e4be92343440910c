"""The character GRU's step graph as a ``StepRuntime`` (``oneiros_server.scheduling.continuous``).

The graph (``export/oneiros_export/charlm.py``) takes ``ids`` (B, T) and ``state`` (L, B, H) and
returns next-token ``logits`` (B, V) and ``state_out``. The runtime keeps each
sequence's hidden state (L, 1, H) under its id; a GRU has no padding mask, so
prefill chunks are batched by equal length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np


class GruRuntime:
    """Per-sequence GRU hidden states behind ``prefill``/``decode``/``fork``/``release``."""

    reach = None  # every token so far shapes the state

    def __init__(self, session, state_in: str, layers: int, hidden: int):
        self.session = session
        self.state_in = state_in
        self.layers, self.hidden = layers, hidden
        self.states: dict[int, np.ndarray] = {}  # seq id -> (L, 1, H)
        self._zeros = np.zeros((layers, 1, hidden), np.float32)

    @classmethod
    def from_spec(cls, session, spec: dict) -> GruRuntime:
        """Build from ``model.json``'s ``spec.state`` (input name and shape (L, batch, H))."""
        state = spec["state"]
        layers, _, hidden = state["shape"]
        return cls(session, state["input"], int(layers), int(hidden))

    def _run(self, seq_ids: Sequence[int], ids: np.ndarray) -> np.ndarray:
        state = np.concatenate([self.states.get(s, self._zeros) for s in seq_ids], axis=1)  # (L, B, H)
        logits, out = self.session.run(None, {"ids": ids, self.state_in: state})
        for i, s in enumerate(seq_ids):
            self.states[s] = out[:, i : i + 1]
        return logits  # (B, V)

    def prefill(self, seq_ids: Sequence[int], chunks: Sequence[np.ndarray]) -> np.ndarray:
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, chunk in enumerate(chunks):
            by_length[len(chunk)].append(i)
        logits: np.ndarray | None = None
        for group in by_length.values():
            ids = np.stack([chunks[i] for i in group]).astype(np.int64, copy=False)  # (b, T)
            out = self._run([seq_ids[i] for i in group], ids)
            if logits is None:
                logits = np.empty((len(chunks), out.shape[1]), out.dtype)
            logits[group] = out
        assert logits is not None
        return logits

    def decode(self, seq_ids: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        return self._run(seq_ids, tokens.reshape(-1, 1))

    def fork(self, seq_id: int, new_ids: Sequence[int]) -> None:
        state = self.states[seq_id]
        for s in new_ids:
            self.states[s] = state

    def release(self, seq_ids: Sequence[int]) -> None:
        for s in seq_ids:
            self.states.pop(s, None)

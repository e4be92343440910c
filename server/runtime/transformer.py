"""The character Transformer's cached step graph as a ``StepRuntime`` (``oneiros_server.continuous``).

The graph (``export/transformer.py``, docs/transformer-cache.md) takes new ``ids`` and
their ``positions`` (B, T), the cached ``past_keys``/``past_values`` (L, B, H, P, D) and
``past_positions`` (B, P), and returns ``logits`` (B, T, V) and the present keys/values
(past then new). A query at position p only sees keys at positions p - W < q <= p, and
position -1 marks an empty entry, so the order of cache entries does not matter.

Design: fixed slots with a ring. Each sequence owns one slot of the arrays
``keys``/``values`` (L, S, H, R, D) and ``positions`` (S, R), R = W - 1; the entry for
position p lives at ring index p % R. A decode step gathers the active slots, runs T = 1
and writes each new entry over the one that just left the window, so a step reads at
most R entries whatever the context length: per-token cost is flat and memory per
sequence is fixed (L x H x R x D x 2 floats). Prefill feeds prompt chunks of different
lengths in one call, right-padded with position -1, and keeps their last R entries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class TransformerRuntime:
    """Per-sequence key/value rings behind ``prefill``/``decode``/``fork``/``release``."""

    def __init__(self, session, layers: int, heads: int, head_dim: int, window: int, slots: int = 8):
        self.session = session
        self.layers, self.heads, self.head_dim = layers, heads, head_dim
        self.ring = window - 1  # R: cached entries a query can still need besides itself
        self.keys = np.zeros((layers, slots, heads, self.ring, head_dim), np.float32)
        self.values = np.zeros_like(self.keys)
        self.positions = np.full((slots, self.ring), -1, np.int64)  # -1 = empty entry
        self.seen = np.zeros(slots, np.int64)  # tokens fed to each slot so far
        self.slot_of: dict[int, int] = {}  # seq id -> slot
        self.free = list(range(slots - 1, -1, -1))

    @classmethod
    def from_spec(cls, session, spec: dict) -> TransformerRuntime:
        """Build from ``model.json``'s ``spec.architecture``."""
        a = spec["architecture"]
        return cls(session, int(a["n_layer"]), int(a["n_head"]), int(a["head_dim"]), int(a["window"]))

    @property
    def capacity(self) -> int:
        return len(self.seen)

    @property
    def bytes_per_sequence(self) -> int:
        """Memory of one slot: its keys, values and positions."""
        return 2 * self.keys[:, 0].nbytes + self.positions[0].nbytes

    # ---------------------------------------------------------------- slots
    def _grow(self) -> None:
        old = self.capacity
        self.keys = np.concatenate([self.keys, np.zeros_like(self.keys)], axis=1)
        self.values = np.concatenate([self.values, np.zeros_like(self.values)], axis=1)
        self.positions = np.concatenate([self.positions, np.full_like(self.positions, -1)])
        self.seen = np.concatenate([self.seen, np.zeros_like(self.seen)])
        self.free.extend(range(2 * old - 1, old - 1, -1))

    def _slot(self, seq_id: int) -> int:
        """The slot of ``seq_id``; a new id gets an empty one."""
        slot = self.slot_of.get(seq_id)
        if slot is None:
            if not self.free:
                self._grow()
            slot = self.slot_of[seq_id] = self.free.pop()
            self.positions[slot] = -1
            self.seen[slot] = 0
        return slot

    # ---------------------------------------------------------------- steps
    def _run(self, slots: np.ndarray, ids: np.ndarray, pos: np.ndarray, with_past: bool):
        """ids, pos (B, T) -> logits (B, T, V) and the new entries (L, B, H, T, D) x 2."""
        if with_past:
            past_k = self.keys[:, slots]  # (L, B, H, R, D)
            past_v = self.values[:, slots]
            past_pos = self.positions[slots]  # (B, R)
        else:  # every sequence is new: nothing cached to attend to
            past_k = np.zeros((self.layers, len(slots), self.heads, 0, self.head_dim), np.float32)
            past_v, past_pos = past_k, np.zeros((len(slots), 0), np.int64)
        feed = {"ids": ids, "positions": pos, "past_keys": past_k, "past_values": past_v, "past_positions": past_pos}
        logits, present_k, present_v = self.session.run(None, feed)
        past = past_pos.shape[1]
        return logits, present_k[:, :, :, past:], present_v[:, :, :, past:]

    def _store(self, slot: int, new_k: np.ndarray, new_v: np.ndarray, first: int, count: int) -> None:
        """Keep the last R of ``count`` new entries (L, H, T, D) at positions ``first``...``first + count - 1``."""
        keep = np.arange(max(0, count - self.ring), count)  # (k,)
        ring = (first + keep) % self.ring
        self.keys[:, slot, :, ring] = np.moveaxis(new_k[:, :, keep], 2, 0)  # (k, L, H, D)
        self.values[:, slot, :, ring] = np.moveaxis(new_v[:, :, keep], 2, 0)
        self.positions[slot, ring] = first + keep
        self.seen[slot] = first + count

    def prefill(self, seq_ids: Sequence[int], chunks: Sequence[np.ndarray]) -> np.ndarray:
        slots = np.array([self._slot(s) for s in seq_ids], np.int64)
        lengths = [len(c) for c in chunks]
        T = max(lengths)
        ids = np.zeros((len(chunks), T), np.int64)
        pos = np.full((len(chunks), T), -1, np.int64)  # right padding: position -1
        for i, (chunk, n) in enumerate(zip(chunks, lengths, strict=True)):
            ids[i, :n] = chunk
            pos[i, :n] = self.seen[slots[i]] + np.arange(n)
        logits, new_k, new_v = self._run(slots, ids, pos, with_past=bool(self.seen[slots].any()))
        for i, n in enumerate(lengths):
            self._store(int(slots[i]), new_k[:, i], new_v[:, i], int(pos[i, 0]), n)
        return logits[np.arange(len(chunks)), np.array(lengths) - 1]  # (B, V)

    def decode(self, seq_ids: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        slots = np.fromiter((self.slot_of[s] for s in seq_ids), np.int64, len(seq_ids))
        seen = self.seen[slots]  # (B,)
        logits, new_k, new_v = self._run(slots, tokens.reshape(-1, 1), seen[:, None], with_past=True)
        ring = seen % self.ring  # (B,): the entry that just left the window
        self.keys[:, slots, :, ring] = np.moveaxis(new_k[:, :, :, 0], 1, 0)  # (B, L, H, D)
        self.values[:, slots, :, ring] = np.moveaxis(new_v[:, :, :, 0], 1, 0)
        self.positions[slots, ring] = seen
        self.seen[slots] = seen + 1
        return logits[:, 0]  # (B, V)

    def fork(self, seq_id: int, new_ids: Sequence[int]) -> None:
        src = self.slot_of[seq_id]
        for s in new_ids:
            dst = self._slot(s)
            self.keys[:, dst] = self.keys[:, src]
            self.values[:, dst] = self.values[:, src]
            self.positions[dst] = self.positions[src]
            self.seen[dst] = self.seen[src]

    def release(self, seq_ids: Sequence[int]) -> None:
        for s in seq_ids:
            slot = self.slot_of.pop(s, None)
            if slot is not None:
                self.free.append(slot)

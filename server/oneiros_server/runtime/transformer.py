"""The character Transformer's cached step graph as a ``StepRuntime`` (``oneiros_server.scheduling.continuous``).

The graph (``export/oneiros_export/transformer.py``, docs/transformer-cache.md) takes new ``ids`` and their
``positions`` (B, T), the cache one layer per input (``past_keys.{l}``, ``past_values.{l}``
(B, H, P, D)) with ``past_positions`` (B, P), and returns ``logits`` (B, T, V) and the new
tokens' ``new_keys``/``new_values`` (L, B, H, T, D). A query at position p only sees keys at
positions p - W < q <= p, and position -1 marks an empty entry or a padded token, so the
order of cache entries does not matter.

Design: fixed slots with a ring. Each sequence owns one slot of the per-layer arrays
(S, H, R, D), R = W - 1, and of ``positions`` (S, R); the entry for position p lives at ring
index p % R. Slots stay packed (a leaving sequence's slot takes the last one's data), so a
decode step feeds the first ``count`` slots as views, without copying the cache: rows that
are not decoding (still prefilling, or finished within their request) ride along as padding.
Each step writes the new entry over the one that just left the window, so a step reads at
most R entries whatever the context length: per-token cost is flat and memory per sequence
fixed (2 x L x H x R x D floats). Prefill feeds prompt chunks of different lengths in one
call, right-padded with position -1, and keeps each prompt's last R entries; the engine
feeds at most ``reach`` prompt tokens, the most that can change the result.
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
        # Each layer looks back R tokens, so the next logits depend on the last L x R + 1 only:
        # a longer prompt gives the same logits from its tail (scores depend on distances only).
        self.reach = layers * self.ring + 1
        self.keys = [np.zeros((slots, heads, self.ring, head_dim), np.float32) for _ in range(layers)]
        self.values = [np.zeros_like(k) for k in self.keys]
        self.positions = np.full((slots, self.ring), -1, np.int64)  # -1 = empty entry
        self.seen = np.zeros(slots, np.int64)  # tokens fed to each slot so far
        self.slot_of: dict[int, int] = {}  # seq id -> slot; slots 0 .. count - 1 are in use
        self.seq_of: list[int] = []  # slot -> seq id

    @classmethod
    def from_spec(cls, session, spec: dict) -> TransformerRuntime:
        """Build from ``model.json``'s ``spec.architecture``."""
        a = spec["architecture"]
        return cls(session, int(a["n_layer"]), int(a["n_head"]), int(a["head_dim"]), int(a["window"]))

    @property
    def capacity(self) -> int:
        return len(self.seen)

    @property
    def count(self) -> int:
        """Sequences holding a slot."""
        return len(self.seq_of)

    # ---------------------------------------------------------------- slots
    def _grow(self) -> None:
        self.keys = [np.concatenate([k, np.zeros_like(k)]) for k in self.keys]
        self.values = [np.concatenate([v, np.zeros_like(v)]) for v in self.values]
        self.positions = np.concatenate([self.positions, np.full_like(self.positions, -1)])
        self.seen = np.concatenate([self.seen, np.zeros_like(self.seen)])

    def _slot(self, seq_id: int) -> int:
        """The slot of ``seq_id``; a new id gets the next empty one."""
        slot = self.slot_of.get(seq_id)
        if slot is None:
            if self.count == self.capacity:
                self._grow()
            slot = self.slot_of[seq_id] = self.count
            self.seq_of.append(seq_id)
            self.positions[slot] = -1
            self.seen[slot] = 0
        return slot

    def _copy(self, src: int, dst: int) -> None:
        for k, v in zip(self.keys, self.values, strict=True):
            k[dst], v[dst] = k[src], v[src]
        self.positions[dst], self.seen[dst] = self.positions[src], self.seen[src]

    # ---------------------------------------------------------------- steps
    def _run(self, ids: np.ndarray, pos: np.ndarray, past_k, past_v, past_pos: np.ndarray):
        feed = {"ids": ids, "positions": pos, "past_positions": past_pos}
        feed |= {f"past_keys.{i}": k for i, k in enumerate(past_k)}
        feed |= {f"past_values.{i}": v for i, v in enumerate(past_v)}
        return self.session.run(None, feed)  # logits (B, T, V), new keys, values (L, B, H, T, D)

    def prefill(self, seq_ids: Sequence[int], chunks: Sequence[np.ndarray]) -> np.ndarray:
        slots = np.array([self._slot(s) for s in seq_ids], np.int64)
        lengths = np.array([len(c) for c in chunks])
        ids = np.zeros((len(chunks), lengths.max()), np.int64)
        pos = np.full(ids.shape, -1, np.int64)  # right padding: position -1
        for i, (chunk, n) in enumerate(zip(chunks, lengths, strict=True)):
            ids[i, :n] = chunk
            pos[i, :n] = self.seen[slots[i]] + np.arange(n)
        if self.seen[slots].any():  # a later chunk: attend to what the ring holds (a copy: few rows)
            past = [k[slots] for k in self.keys], [v[slots] for v in self.values], self.positions[slots]
        else:  # every sequence starts here: nothing cached to attend to
            empty = np.zeros((len(slots), self.heads, 0, self.head_dim), np.float32)
            past = [empty] * self.layers, [empty] * self.layers, np.zeros((len(slots), 0), np.int64)
        logits, new_k, new_v = self._run(ids, pos, *past)
        for i, n in enumerate(lengths.tolist()):  # keep the last R entries of each prompt chunk
            keep = np.arange(max(0, n - self.ring), n)
            first, slot = int(pos[i, 0]), int(slots[i])
            ring = (first + keep) % self.ring
            for layer in range(self.layers):
                self.keys[layer][slot][:, ring] = new_k[layer, i][:, keep]  # (H, k, D)
                self.values[layer][slot][:, ring] = new_v[layer, i][:, keep]
            self.positions[slot, ring] = first + keep
            self.seen[slot] = first + n
        return logits[np.arange(len(chunks)), lengths - 1]  # (B, V)

    def decode(self, seq_ids: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        slots = np.fromiter((self.slot_of[s] for s in seq_ids), np.int64, len(seq_ids))
        n = self.count
        ids = np.zeros((n, 1), np.int64)
        pos = np.full((n, 1), -1, np.int64)  # slots not decoding this step are padding
        seen = self.seen[slots]
        ids[slots, 0], pos[slots, 0] = tokens, seen
        logits, new_k, new_v = self._run(
            ids, pos, [k[:n] for k in self.keys], [v[:n] for v in self.values], self.positions[:n]
        )
        ring = seen % self.ring  # (B,): the entry that just left the window
        for layer in range(self.layers):
            self.keys[layer][slots, :, ring] = new_k[layer, slots, :, 0]  # (B, H, D)
            self.values[layer][slots, :, ring] = new_v[layer, slots, :, 0]
        self.positions[slots, ring] = seen
        self.seen[slots] = seen + 1
        return logits[slots, 0]  # (B, V)

    def fork(self, seq_id: int, new_ids: Sequence[int]) -> None:
        for s in new_ids:
            self._copy(self.slot_of[seq_id], self._slot(s))

    def release(self, seq_ids: Sequence[int]) -> None:
        for s in seq_ids:
            slot = self.slot_of.pop(s, None)
            if slot is None:
                continue
            last = self.seq_of.pop()
            if last != s:  # keep the slots packed: the last sequence moves into the hole
                self._copy(self.count, slot)
                self.slot_of[last], self.seq_of[slot] = slot, last

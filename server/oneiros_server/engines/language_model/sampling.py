"""The sampling math, in numpy: softmax temperature, top-k, top-p, entropy, draws, stops.

Temperature is the chapter's reweighting: ``log p / T`` renormalised (T = 0 is
greedy), then top-k keeps the k most likely tokens and top-p the smallest set whose
mass reaches p. Every row of a batch has its own parameters and its own random
generator, so a completion's text does not depend on what else is in the batch.
"""

from __future__ import annotations

import numpy as np


def distributions(logits: np.ndarray, temperature: np.ndarray, top_k: np.ndarray, top_p: np.ndarray) -> np.ndarray:
    """The distributions to sample from.

    logits (B, V) float; temperature (B,) >= 0; top_k (B,) int (0 = off); top_p (B,) in (0, 1]
    -> probs (B, V) float64, rows summing to 1 (one-hot where temperature is 0).
    """
    logits = np.asarray(logits, dtype=np.float64)
    batch, vocab = logits.shape
    greedy = temperature <= 0
    # softmax(log p / T) == softmax(logits / T): the log-normaliser is constant per row.
    scaled = logits / np.where(greedy, 1.0, np.maximum(temperature, 1e-6))[:, None]  # (B, V)
    scaled -= scaled.max(axis=1, keepdims=True)
    probs = np.exp(scaled)
    probs /= probs.sum(axis=1, keepdims=True)  # (B, V) after temperature
    if greedy.any():
        rows = np.flatnonzero(greedy)
        probs[rows] = 0.0
        probs[rows, logits[rows].argmax(axis=1)] = 1.0
    truncate = ~greedy & (((top_k > 0) & (top_k < vocab)) | (top_p < 1))
    if truncate.any():
        rows = np.flatnonzero(truncate)
        probs[rows] = _truncate(probs[rows], top_k[rows], top_p[rows])
    return probs


def _truncate(probs: np.ndarray, top_k: np.ndarray, top_p: np.ndarray) -> np.ndarray:
    """Top-k then nucleus (top-p) filtering of probs (R, V), renormalised."""
    rows, vocab = probs.shape
    order = np.argsort(-probs, axis=1, kind="stable")  # (R, V) most likely first
    ranked = np.take_along_axis(probs, order, axis=1)  # (R, V) descending
    k = np.where(top_k > 0, np.minimum(top_k, vocab), vocab)
    keep = np.arange(vocab)[None, :] < k[:, None]  # (R, V)
    ranked = np.where(keep, ranked, 0.0)
    ranked /= ranked.sum(axis=1, keepdims=True)  # after top-k
    mass_before = np.cumsum(ranked, axis=1) - ranked
    keep &= mass_before < top_p[:, None]  # nucleus: stop once the mass reaches top_p
    keep[:, 0] = True
    ranked = np.where(keep, ranked, 0.0)
    ranked /= ranked.sum(axis=1, keepdims=True)
    out = np.zeros_like(probs)
    np.put_along_axis(out, order, ranked, axis=1)
    return out


def entropy_bits(probs: np.ndarray) -> np.ndarray:
    """probs (B, V) -> entropy in bits (B,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, -probs * np.log2(probs), 0.0)
    return terms.sum(axis=1)


def draw(probs: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
    """One token per row, each row with its own generator: probs (B, V) -> ids (B,) int64."""
    return draw_with(probs, np.array([rng.random() for rng in rngs]))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int | None, index: int) -> int:
    """The 64-bit key of completion ``index``'s random stream: fixed by ``seed``, fresh when None."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


def uniforms(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Counter-based uniforms in [0, 1) (SplitMix64): draw ``counters[i]`` of stream ``keys[i]``.

    keys, counters (B,) uint64 -> (B,) float64. A row's value depends on its own key and
    counter only, so a sequence draws the same numbers alone or in any batch.
    """
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + (counters.astype(np.uint64) + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def draw_with(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Invert each row's cdf at its uniform: probs (B, V), u (B,) in [0, 1) -> ids (B,) int64."""
    cdf = np.cumsum(probs, axis=1)  # (B, V)
    u = u * cdf[:, -1]
    ids = (cdf <= u[:, None]).sum(axis=1)
    ids = np.minimum(ids, probs.shape[1] - 1)
    # Never land on a zero-probability token (rounding at the top of the cdf).
    bad = probs[np.arange(len(ids)), ids] <= 0
    if bad.any():
        ids[bad] = probs[bad].argmax(axis=1)
    return ids.astype(np.int64)


def rng_for(seed: int | None, index: int) -> np.random.Generator:
    """The generator of completion ``index``: fixed by ``seed``, fresh entropy when None."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([seed, index])


class StopText:
    """Generated text with stop sequences: what may be shown now, and when to stop.

    ``push(piece)`` returns ``(visible, stopped)``: the text that can be released now
    (holding back any tail that could still become a stop sequence) and whether a stop
    sequence completed (its text is never released). ``flush()`` releases the rest.
    """

    def __init__(self, stops: tuple[str, ...] = ()):
        self.stops = tuple(s for s in stops if s)
        self.text = ""  # everything generated, stop text included
        self.released = 0
        self.final: str | None = None

    def push(self, piece: str) -> tuple[str, bool]:
        self.text += piece
        if not self.stops:
            self.released = len(self.text)
            return piece, False
        ends = [s for s in self.stops if self.text.endswith(s)]
        if ends:
            longest = max(ends, key=len)  # earliest start among stops ending here
            self.final = self.text[: len(self.text) - len(longest)]
            return self._release(len(self.final)), True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), hold, -1):
                if self.text.endswith(s[:k]):
                    hold = k
                    break
        return self._release(len(self.text) - hold), False

    def flush(self) -> str:
        if self.final is None:
            self.final = self.text
        return self._release(len(self.final))

    def _release(self, upto: int) -> str:
        upto = max(upto, self.released)
        piece = self.text[self.released : upto]
        self.released = upto
        return piece

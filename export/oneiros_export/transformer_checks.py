"""Checks of an exported character Transformer: ONNX Runtime parity and the temperature sweep.

Both drive the graph the way a server would (docs/transformer-cache.md): prompts of
different lengths right-padded with position -1 in one prefill, then decode steps with
the new entries appended to the cache and the cache trimmed to the window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from oneiros_server.engines.language_model.sampling import distributions, draw, entropy_bits, rng_for
from oneiros_training.corpus import Vocabulary
from oneiros_training.transformer import CharTransformer

TEMPERATURES = (0.2, 0.5, 1.0, 1.2)


def session(path: Path):
    """A one-thread CPU ONNX Runtime session."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cache_feed(keys: np.ndarray, values: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    """The graph's cache inputs from stacked keys, values (L, B, H, P, D) and positions (B, P)."""
    feed = {f"past_keys.{i}": np.ascontiguousarray(k) for i, k in enumerate(keys)}
    feed |= {f"past_values.{i}": np.ascontiguousarray(v) for i, v in enumerate(values)}
    return {"past_positions": positions, **feed}


def empty_cache(sess, batch: int) -> dict[str, np.ndarray]:
    """Zero-length cache inputs (a prefill): keys/values (B, H, 0, D) per layer, positions (B, 0)."""
    H, _, D = next(i.shape for i in sess.get_inputs() if i.name == "past_keys.0")[1:]
    layers = sum(i.name.startswith("past_keys.") for i in sess.get_inputs())
    kv = np.zeros((layers, batch, H, 0, D), np.float32)
    return cache_feed(kv, kv, np.zeros((batch, 0), np.int64))


def padded_prompts(lengths: list[int], vocab_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random prompts right-padded to the longest: ids (B, T) and positions (B, T), -1 = padding."""
    rng = np.random.default_rng(seed)
    T = max(lengths)
    ids = np.zeros((len(lengths), T), np.int64)
    pos = np.full((len(lengths), T), -1, np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(0, vocab_size, n)
        pos[i, :n] = np.arange(n)
    return ids, pos


def _diff(want, got) -> float:
    return max(float(np.abs(w.detach().numpy() - g).max()) for w, g in zip(want, got, strict=True))


@torch.no_grad()
def check_parity(model: CharTransformer, graph: Path, atol: float = 1e-4, steps: int = 4) -> float:
    """Largest |torch - onnxruntime| over a padded prefill of mixed lengths and decode steps.

    The decode steps carry the cache of every sequence (different past lengths, padded
    slots included), and each sequence's last logits also match the torch model run on
    that sequence alone. Raises AssertionError past ``atol``.
    """
    sess = session(graph)
    c = model.config
    lengths = [1, 4, c.window + 3, 2 * c.block + 1, 9]  # beyond the window and the block too
    ids, pos = padded_prompts(lengths, c.vocab_size)
    got = sess.run(None, {"ids": ids, "positions": pos, **empty_cache(sess, len(lengths))})
    worst = _diff(model(torch.from_numpy(ids), torch.from_numpy(pos)), got)
    logits, keys, values = got
    past_pos = pos
    gen = np.random.default_rng(1)
    seqs = [list(ids[i, :n]) for i, n in enumerate(lengths)]
    step_pos = np.array(lengths, np.int64)[:, None]  # (B, 1)
    for _ in range(steps):
        nxt = gen.integers(0, c.vocab_size, (len(lengths), 1))
        got = sess.run(None, {"ids": nxt, "positions": step_pos, **cache_feed(keys, values, past_pos)})
        want = model(*map(torch.from_numpy, (nxt, step_pos, keys, values, past_pos)))
        worst = max(worst, _diff(want, got))
        logits = got[0]
        keys, values = np.concatenate([keys, got[1]], axis=3), np.concatenate([values, got[2]], axis=3)
        past_pos = np.concatenate([past_pos, step_pos], axis=1)
        for i, s in enumerate(seqs):
            s.append(int(nxt[i, 0]))
        step_pos = step_pos + 1
    for i, s in enumerate(seqs):  # batched and padded == alone
        alone = model(torch.tensor([s]))[0][0, -1].numpy()
        worst = max(worst, float(np.abs(alone - logits[i, -1]).max()))
    assert worst < atol, f"torch/ONNX parity failed: max abs difference {worst:.2e}"
    return worst


def temperature_entropies(
    graph: Path,
    vocab: Vocabulary,
    window: int,
    bos: str,
    prompt: str,
    tokens: int = 300,
    seed: int = 0,
) -> dict[str, float]:
    """Mean entropy (bits) of the sampled distributions at each of the chapter's temperatures.

    The cache is trimmed to the last ``window - 1`` entries before each step (the sliding
    window), so ``tokens`` may exceed the window.
    """
    sess = session(graph)
    temps = np.array(TEMPERATURES)
    n = len(temps)
    ids = np.tile(vocab.encode(bos + prompt)[None], (n, 1))  # (B, T)
    pos = np.tile(np.arange(ids.shape[1]), (n, 1))
    logits, keys, values = sess.run(None, {"ids": ids, "positions": pos, **empty_cache(sess, n)})
    logits = logits[:, -1]  # (B, V)
    rngs = [rng_for(seed, i) for i in range(n)]
    total = np.zeros(n)
    t = ids.shape[1]
    for _ in range(tokens):
        probs = distributions(logits, temps, np.zeros(n, np.int64), np.ones(n))
        total += entropy_bits(probs)
        nxt = draw(probs, rngs)[:, None]  # (B, 1)
        keys, values, pos = keys[:, :, :, 1 - window :], values[:, :, :, 1 - window :], pos[:, 1 - window :]
        step = np.full((n, 1), t, np.int64)
        logits, new_k, new_v = sess.run(None, {"ids": nxt, "positions": step, **cache_feed(keys, values, pos)})
        keys, values = np.concatenate([keys, new_k], axis=3), np.concatenate([values, new_v], axis=3)
        logits, pos, t = logits[:, -1], np.concatenate([pos, step], axis=1), t + 1
    return {f"mean_entropy_bits_t{t:g}": round(float(e), 4) for t, e in zip(TEMPERATURES, total / tokens)}

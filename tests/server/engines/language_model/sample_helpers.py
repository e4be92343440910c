"""Sampler engines over the tiny GRU and the tiny Transformer, and how their outputs compare."""

from __future__ import annotations

import pytest

from oneiros_server.engines.language_model.engine import load
from oneiros_server.settings import Settings
from tests.lm_tiny import tiny_manifest, tiny_transformer

LANGUAGE_MODELS = ("tiny-lm", "tiny-transformer")  # the GRU and the Transformer with its cache


def make_engine(model: str = "tiny-lm", **overrides):
    manifest, version_dir = tiny_manifest() if model == "tiny-lm" else tiny_transformer()[1:]
    engine = load(manifest, version_dir, Settings(metrics_port=-1, **overrides))
    engine.warmup()
    return engine


def same_completions(a: list, b: list) -> bool:
    """Equal texts, reasons and counts; entropies equal to float rounding (a batched Transformer
    step adds its numbers in another order than a step alone: logits agree to ~1e-6)."""
    key = [(c.index, c.text, c.finish_reason, c.token_count) for c in a]
    return key == [(c.index, c.text, c.finish_reason, c.token_count) for c in b] and all(
        x.mean_entropy_bits == pytest.approx(y.mean_entropy_bits, rel=1e-6) for x, y in zip(a, b, strict=True)
    )

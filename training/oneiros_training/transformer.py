"""Decoder-only character Transformer with rotary positions, a sliding window and a key/value cache.

Every call takes the new tokens with their absolute positions and, optionally, the cached
keys/values of earlier tokens with theirs (one (B, H, P, D) tensor per layer); it returns
logits and the keys/values of the new tokens only, for the caller to cache. Position ``-1``
marks padding (a cache entry or a new token that is not there), so sequences with different
past lengths share one batch:

    logits, k, v = model(ids, positions)                       # prefill a prompt chunk
    cache = torch.cat([cache, k], dim=3)                       # (L, B, H, P, D), and so for v
    logits, k, v = model(next_ids, next_pos, cache_k, cache_v, cache_positions)  # one more token

With a cache, each layer scores the cached keys and the new ones apart and joins the scores,
so the cache is only read, never copied into a bigger tensor.

A query at position ``p`` attends to keys at positions ``p - window < q <= p``; with rotary
embeddings the scores depend only on the distance, so generation runs past the training
block, and cache entries older than the window may be dropped at any time.

    python -m oneiros_training.transformer --text kjv --out runs/transformer-kjv --minutes 80
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int
    block: int = 256  # training sequence length
    window: int = 256  # attention span (keys per query, itself included)
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 256
    dropout: float = 0.0
    rope_base: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


def rotary(positions: torch.Tensor, head_dim: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of the rotary angles: positions (B, T) -> two (B, 1, T, head_dim // 2)."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)  # (D/2,)
    angles = positions.clamp(min=0).to(torch.float32)[:, None, :, None] * inv_freq  # (B, 1, T, D/2)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (B, H, T, D) feature pairs (i, i + D/2) by the angles."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]  # (B, H, T, D/2)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)  # (B, H, T, D)


def attention_bias(q_pos: torch.Tensor, k_pos: torch.Tensor, window: int) -> torch.Tensor:
    """Additive (B, 1, T, S) mask, 0 or -inf: causal, within the window, padding (-1) excluded.

    A padded query (position -1) may see every key, so its row is never empty (no NaN).
    """
    q = q_pos[:, :, None]  # (B, T, 1)
    k = k_pos[:, None, :]  # (B, 1, S)
    allowed = (k >= 0) & (k <= q) & (k > q - window) | (q < 0)  # (B, T, S)
    return torch.zeros(allowed.shape).masked_fill(~allowed, float("-inf"))[:, None]  # (B, 1, T, S)


class SelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=False)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        """x (B, T, C); bias (B, 1, T, P + T) or None (causal); past (B, H, P, D) or None
        -> y (B, T, C) and the new tokens' k, v (B, H, T, D)."""
        B, T, C = x.shape
        H, D = self.config.n_head, self.config.head_dim
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q = apply_rotary(q.view(B, T, H, D).transpose(1, 2), cos, sin)  # (B, H, T, D)
        k = apply_rotary(k.view(B, T, H, D).transpose(1, 2), cos, sin)  # (B, H, T, D)
        v = v.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        if past_k is None:
            p = self.config.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p, is_causal=bias is None)
        else:  # the cache and the new keys scored apart, then one softmax over both
            P = past_k.shape[2]
            scores = torch.cat([q @ past_k.transpose(2, 3), q @ k.transpose(2, 3)], dim=3)  # (B, H, T, P + T)
            weights = (scores * D**-0.5 + bias).softmax(dim=3)
            y = weights[..., :P] @ past_v + weights[..., P:] @ v  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.dropout(self.proj(y)), k, v


class Block(nn.Module):
    """Pre-norm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = nn.Sequential(
            nn.Linear(config.d_model, 4 * config.d_model, bias=False),
            nn.GELU(),
            nn.Linear(4 * config.d_model, config.d_model, bias=False),
            nn.Dropout(config.dropout),
        )

    def forward(self, x, cos, sin, bias, past_k, past_v):
        a, k, v = self.attn(self.ln1(x), cos, sin, bias, past_k, past_v)  # (B, T, C)
        x = x + a
        return x + self.mlp(self.ln2(x)), k, v  # (B, T, C)


class CharTransformer(nn.Module):
    """Token embedding -> n_layer pre-norm blocks -> LayerNorm -> linear head."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: scale the residual projections
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / (2 * config.n_layer) ** 0.5)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def empty_cache(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Zero-length keys, values (L, B, H, 0, D) and positions (B, 0)."""
        c = self.config
        kv = torch.zeros(c.n_layer, batch, c.n_head, 0, c.head_dim)
        return kv, kv.clone(), torch.zeros(batch, 0, dtype=torch.int64)

    def forward(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        past_keys: Sequence[torch.Tensor] | torch.Tensor | None = None,
        past_values: Sequence[torch.Tensor] | torch.Tensor | None = None,
        past_positions: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids (B, T); positions (B, T), -1 = padding; past: n_layer (B, H, P, D) each (a list or
        one (L, B, H, P, D) tensor), past_positions (B, P).

        Returns logits (B, T, V) and the new tokens' keys, values (L, B, H, T, D). Without
        positions and past, the tokens sit at 0..T-1 and the causal fast path is used.
        """
        B, T = ids.shape
        c = self.config
        if positions is None:
            positions = torch.arange(T, device=ids.device).expand(B, T)  # (B, T)
        bias = None
        if self._traced() or past_keys is not None or T > c.window or bool((positions < 0).any()):
            k_pos = positions if past_positions is None else torch.cat([past_positions, positions], dim=1)  # (B, S)
            bias = attention_bias(positions, k_pos, c.window)  # (B, 1, T, S)
        cos, sin = rotary(positions, c.head_dim, c.rope_base)  # (B, 1, T, D/2)
        x = self.drop(self.embed(ids))  # (B, T, C)
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            pk = None if past_keys is None else past_keys[i]  # (B, H, P, D)
            pv = None if past_values is None else past_values[i]
            x, k, v = block(x, cos, sin, bias, pk, pv)  # (B, T, C), (B, H, T, D)
            keys.append(k)
            values.append(v)
        logits = self.head(self.ln_f(x))  # (B, T, V)
        return logits, torch.stack(keys), torch.stack(values)  # (B, T, V), (L, B, H, T, D)

    @staticmethod
    def _traced() -> bool:
        return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def main(argv: list[str] | None = None) -> None:
    """The training command line (see ``oneiros_training.transformer_train``)."""
    from oneiros_training.transformer_train import main as train_main

    train_main(argv)


if __name__ == "__main__":
    main()

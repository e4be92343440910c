"""The character Transformer's key/value cache: decode steps, padded batches, the sliding window."""

from __future__ import annotations

import pytest
import torch

from oneiros_training.transformer import CharTransformer, TransformerConfig

ATOL = 1e-5


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(1)


@pytest.fixture(scope="module")
def model() -> CharTransformer:
    torch.manual_seed(0)
    m = CharTransformer(TransformerConfig(vocab_size=11, block=16, window=8, n_layer=2, n_head=2, d_model=16))
    with torch.no_grad():  # larger weights than the init, so that mistakes show in the logits
        for p in m.parameters():
            p.normal_(0.0, 0.3)
    return m.eval()


def test_decode_steps_with_cache_equal_a_full_forward(model):
    ids = torch.randint(0, 11, (3, 8))
    with torch.no_grad():
        full, keys, values = model(ids)  # (B, 8, V)
        logits, k, v = model(ids[:, :3])
        steps = [logits]
        pos = torch.arange(3).expand(3, 3)
        for t in range(3, 8):
            p = torch.full((3, 1), t)
            logits, new_k, new_v = model(ids[:, t : t + 1], p, k, v, pos)
            assert new_k.shape == (2, 3, 2, 1, 8)  # only the new token's entries
            k, v = torch.cat([k, new_k], dim=3), torch.cat([v, new_v], dim=3)
            pos = torch.cat([pos, p], dim=1)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=0)
    torch.testing.assert_close(k, keys, atol=ATOL, rtol=0)
    torch.testing.assert_close(v, values, atol=ATOL, rtol=0)


def test_padded_batch_of_different_lengths_equals_each_sequence_alone(model):
    lengths = [2, 7, 5]
    seqs = [torch.randint(0, 11, (n + 1,)) for n in lengths]
    with torch.no_grad():
        alone = [model(s[None])[0][0] for s in seqs]  # each (n + 1, V)
        # prefill the prompts right-padded, then one decode step with a left-padded cache
        T = max(lengths)
        ids = torch.zeros(3, T, dtype=torch.int64)
        pos = torch.full((3, T), -1)
        for i, (s, n) in enumerate(zip(seqs, lengths)):
            ids[i, :n], pos[i, :n] = s[:n], torch.arange(n)
        pre, k, v = model(ids, pos)
        nxt = torch.stack([s[n] for s, n in zip(seqs, lengths)])[:, None]  # (B, 1)
        step, _, _ = model(nxt, torch.tensor(lengths)[:, None], k, v, pos)
    for i, n in enumerate(lengths):
        torch.testing.assert_close(pre[i, :n], alone[i][:n], atol=ATOL, rtol=0)
        torch.testing.assert_close(step[i, 0], alone[i][n], atol=ATOL, rtol=0)


def test_sliding_window_beyond_the_block(model):
    """Past the block, a step that keeps only the last window - 1 cached keys equals the full forward."""
    window = model.config.window
    ids = torch.randint(0, 11, (2, 40))  # longer than block (16) and window (8)
    with torch.no_grad():
        full, k, v = model(ids)  # mask path: T > window
        pos = torch.arange(40).expand(2, 40)
        for t in (20, 39):
            keep = slice(t - window + 1, t)  # the window - 1 keys before t
            step, _, _ = model(ids[:, t : t + 1], pos[:, t : t + 1], k[:, :, :, keep], v[:, :, :, keep], pos[:, keep])
            torch.testing.assert_close(step[:, 0], full[:, t], atol=ATOL, rtol=0)
        # keys outside the window are masked: dropping them or keeping them changes nothing
        step_all, _, _ = model(ids[:, 39:40], pos[:, 39:40], k[:, :, :, :39], v[:, :, :, :39], pos[:, :39])
    torch.testing.assert_close(step_all[:, 0], full[:, 39], atol=ATOL, rtol=0)


def test_the_window_does_limit_attention(model):
    """A character just past the stacked windows' reach (n_layer * (window - 1)) changes nothing."""
    reach = model.config.n_layer * (model.config.window - 1)
    ids = torch.randint(0, 11, (1, 40))
    t = 39
    outside, inside = ids.clone(), ids.clone()
    outside[0, t - reach - 1] = (ids[0, t - reach - 1] + 1) % 11
    inside[0, t - reach] = (ids[0, t - reach] + 1) % 11
    with torch.no_grad():
        base = model(ids)[0][0, t]
        torch.testing.assert_close(model(outside)[0][0, t], base, atol=ATOL, rtol=0)
        assert (model(inside)[0][0, t] - base).abs().max() > 1e-3


def test_training_step_reduces_the_loss():
    torch.manual_seed(0)
    m = CharTransformer(TransformerConfig(vocab_size=5, block=12, window=12, n_layer=1, n_head=2, d_model=16))
    ids = torch.arange(13).remainder(5)[None].repeat(4, 1)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        logits, _, _ = m(ids[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 5), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_ring_buffer_of_window_minus_one_slots_equals_a_full_forward(model):
    """The serving layout (docs/transformer-cache.md): entry of position p kept at slot p % (W - 1)."""
    slots = model.config.window - 1
    c = model.config
    ids = torch.randint(0, 11, (2, 30))
    keys = torch.zeros(c.n_layer, 2, c.n_head, slots, c.head_dim)
    values = torch.zeros_like(keys)
    pos = torch.full((2, slots), -1)
    with torch.no_grad():
        full, _, _ = model(ids)
        for t in range(30):
            p = torch.full((2, 1), t)
            logits, k, v = model(ids[:, t : t + 1], p, keys, values, pos)
            torch.testing.assert_close(logits[:, 0], full[:, t], atol=ATOL, rtol=0)
            keys[:, :, :, t % slots], values[:, :, :, t % slots] = k[:, :, :, 0], v[:, :, :, 0]
            pos[:, t % slots] = t

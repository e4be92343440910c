"""The Transformer's key/value rings: cached steps equal a full forward, sequences of different
lengths share a batch, the sliding window, forks, and slots that grow and are reused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oneiros_server.runtime.onnx import create_session
from oneiros_server.runtime.transformer import TransformerRuntime
from oneiros_server.settings import Settings
from tests.lm_tiny import tiny_transformer

ATOL = 1e-4


@pytest.fixture(scope="module")
def tiny():
    model, manifest, version_dir = tiny_transformer()
    session = create_session(version_dir / manifest.files["kv_step"].path, Settings(metrics_port=-1))
    return model, manifest, session


def make(tiny, slots: int = 8) -> TransformerRuntime:
    _, manifest, session = tiny
    a = manifest.spec["architecture"]
    return TransformerRuntime(session, a["n_layer"], a["n_head"], a["head_dim"], a["window"], slots=slots)


def full_forward(model, ids: list[int]) -> np.ndarray:
    """Next-token logits after the last of ``ids``, from one uncached forward over all of them."""
    with torch.no_grad():
        return model(torch.tensor([ids]))[0][0, -1].numpy()


def tokens(seed: int, n: int, vocab: int) -> list[int]:
    return np.random.default_rng(seed).integers(0, vocab, n).tolist()


def test_each_decode_step_equals_a_full_forward_over_the_same_context(tiny):
    model = tiny[0]
    runtime = make(tiny)
    window = model.config.window
    ids = tokens(0, 5 + 3 * window, model.config.vocab_size)  # runs well past the window
    logits = runtime.prefill([7], [np.array(ids[:5])])
    np.testing.assert_allclose(logits[0], full_forward(model, ids[:5]), atol=ATOL, rtol=0)
    for t in range(5, len(ids)):
        logits = runtime.decode([7], np.array([ids[t]]))
        np.testing.assert_allclose(logits[0], full_forward(model, ids[: t + 1]), atol=ATOL, rtol=0)
    assert runtime.seen[runtime.slot_of[7]] == len(ids)
    assert (runtime.positions[runtime.slot_of[7]] >= 0).sum() == window - 1  # the ring holds W - 1 entries


def test_sequences_of_different_lengths_in_one_batch_equal_each_alone(tiny):
    model = tiny[0]
    runtime = make(tiny, slots=2)  # grows while the sequences join
    lengths = [1, 9, 30, 4]  # shorter than, about, and longer than the window (12)
    prompts = [tokens(10 + i, n, model.config.vocab_size) for i, n in enumerate(lengths)]
    chunk = 7  # prompts go in 7-token chunks, sequences finishing their prefill at different steps
    offsets = [0] * len(prompts)
    contexts = [list(p) for p in prompts]
    step_tokens = tokens(99, 40, model.config.vocab_size)
    while True:
        live = [i for i in range(len(prompts)) if offsets[i] < len(prompts[i])]
        if live:
            out = runtime.prefill(live, [np.array(prompts[i][offsets[i] : offsets[i] + chunk]) for i in live])
            for row, i in enumerate(live):
                offsets[i] = min(offsets[i] + chunk, len(prompts[i]))
                if offsets[i] == len(prompts[i]):
                    np.testing.assert_allclose(out[row], full_forward(model, prompts[i]), atol=ATOL, rtol=0)
        done = [i for i in range(len(prompts)) if offsets[i] == len(prompts[i])]
        if not live:
            break
    for step in range(20):  # then all four decode together, each at its own position
        feed = np.array([step_tokens[(step + i) % 40] for i in done])
        out = runtime.decode(done, feed)
        for row, i in enumerate(done):
            contexts[i].append(int(feed[row]))
            np.testing.assert_allclose(out[row], full_forward(model, contexts[i]), atol=ATOL, rtol=0)
    assert runtime.capacity >= len(prompts)


def test_a_prompt_longer_than_the_window_in_one_call_keeps_only_the_window(tiny):
    model = tiny[0]
    runtime = make(tiny)
    ids = tokens(3, 50, model.config.vocab_size)
    logits = runtime.prefill([0], [np.array(ids)])
    np.testing.assert_allclose(logits[0], full_forward(model, ids), atol=ATOL, rtol=0)
    slot = runtime.slot_of[0]
    assert sorted(runtime.positions[slot].tolist()) == list(range(50 - runtime.ring, 50))
    follow = runtime.decode([0], np.array([ids[0]]))  # and the ring carries on from there
    np.testing.assert_allclose(follow[0], full_forward(model, [*ids, ids[0]]), atol=ATOL, rtol=0)


def test_forked_sequences_continue_independently(tiny):
    model = tiny[0]
    runtime = make(tiny)
    prompt = tokens(4, 6, model.config.vocab_size)
    runtime.prefill([1], [np.array(prompt)])
    runtime.fork(1, [2, 3])
    out = runtime.decode([1, 2, 3], np.array([5, 6, 7]))
    for row, token in enumerate([5, 6, 7]):
        np.testing.assert_allclose(out[row], full_forward(model, [*prompt, token]), atol=ATOL, rtol=0)


def test_released_slots_are_reused_and_start_empty(tiny):
    model = tiny[0]
    runtime = make(tiny, slots=1)
    runtime.prefill([1], [np.array(tokens(5, 20, model.config.vocab_size))])
    runtime.release([1])
    assert runtime.count == 0
    fresh = tokens(6, 3, model.config.vocab_size)
    out = runtime.prefill([2], [np.array(fresh)])  # same slot, nothing left of sequence 1
    np.testing.assert_allclose(out[0], full_forward(model, fresh), atol=ATOL, rtol=0)
    assert runtime.capacity == 1


def test_slots_stay_packed_and_each_sequence_keeps_its_cache_when_others_leave(tiny):
    model = tiny[0]
    runtime = make(tiny, slots=2)
    vocab = model.config.vocab_size
    contexts = {s: tokens(20 + s, 4 + 3 * s, vocab) for s in range(5)}
    for s, ids in contexts.items():
        runtime.prefill([s], [np.array(ids)])
    runtime.release([1, 0])  # sequences 3 and 4 move into the freed slots
    assert runtime.count == 3 and sorted(runtime.slot_of.values()) == [0, 1, 2]
    live = [4, 2, 3]  # any order
    for step in range(15):
        feed = np.array(tokens(step, 3, vocab))
        out = runtime.decode(live, feed)
        for row, s in enumerate(live):
            contexts[s].append(int(feed[row]))
            np.testing.assert_allclose(out[row], full_forward(model, contexts[s]), atol=ATOL, rtol=0)
        if step == 5:  # a sequence still prefilling rides along in the decode steps as padding
            contexts[9] = tokens(9, 30, vocab)
            runtime.prefill([9], [np.array(contexts[9][:10])])
    runtime.prefill([9], [np.array(contexts[9][10:])])
    out = runtime.decode([9], np.array([1]))
    np.testing.assert_allclose(out[0], full_forward(model, [*contexts[9], 1]), atol=ATOL, rtol=0)

"""The sampling math: the chapter's temperature, top-k, top-p, entropy, seeded draws, stops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneiros_server.engines.language_model.sampling import StopText, distributions, draw, entropy_bits, rng_for

P = np.array([0.5, 0.3, 0.15, 0.05])


def chapter_reweight(original: np.ndarray, temperature: float) -> np.ndarray:
    """Listing 12.x of the chapter: reweight a distribution by a softmax temperature."""
    distribution = np.log(original) / temperature
    distribution = np.exp(distribution)
    return distribution / np.sum(distribution)


def one(logits, temperature=1.0, top_k=0, top_p=1.0) -> np.ndarray:
    return distributions(np.atleast_2d(logits), np.array([temperature]), np.array([top_k]), np.array([top_p]))[0]


@pytest.mark.parametrize("temperature", [0.2, 0.5, 1.0, 1.2, 3.0])
def test_temperature_is_the_chapters_reweighting(temperature):
    got = one(np.log(P) + 7.0, temperature)  # logits are log-probs up to a constant
    np.testing.assert_allclose(got, chapter_reweight(P, temperature), rtol=1e-9)


def test_zero_temperature_is_greedy():
    np.testing.assert_array_equal(one(np.log(P), 0.0), [1, 0, 0, 0])
    assert entropy_bits(one(np.log(P), 0.0)[None])[0] == 0


def test_top_k_and_top_p_keep_the_most_likely():
    np.testing.assert_allclose(one(np.log(P), top_k=2), [0.625, 0.375, 0, 0])
    # smallest set with mass >= 0.7 is {0.5, 0.3}; >= 0.8 also (0.5 + 0.3 = 0.8)
    np.testing.assert_allclose(one(np.log(P), top_p=0.7), [0.625, 0.375, 0, 0])
    np.testing.assert_allclose(one(np.log(P), top_p=0.81), np.array([0.5, 0.3, 0.15, 0]) / 0.95)
    np.testing.assert_allclose(one(np.log(P), top_p=0.1), [1, 0, 0, 0])


def test_entropy_rises_with_temperature():
    h = [entropy_bits(one(np.log(P), t)[None])[0] for t in (0.2, 0.5, 1.0, 1.2)]
    assert h == sorted(h) and h[0] < 0.5 < 1.5 < h[-1] < 2.0
    assert entropy_bits(np.full((1, 4), 0.25))[0] == pytest.approx(2.0)


@settings(max_examples=60, deadline=None)
@given(
    logits=st.lists(st.floats(-20, 20), min_size=2, max_size=30),
    temperature=st.floats(0, 5),
    top_k=st.integers(0, 40),
    top_p=st.floats(0.01, 1.0),
)
def test_distributions_are_valid(logits, temperature, top_k, top_p):
    p = one(np.array(logits), temperature, top_k, top_p)
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
    support = (p > 0).sum()
    assert support >= 1
    if top_k:
        assert support <= top_k
    assert logits[int(p.argmax())] >= max(logits) - 1e-9  # the most likely token survives


def test_draws_follow_the_distribution_and_the_seed():
    probs = np.tile(P, (4000, 1))
    ids = draw(probs, [rng_for(7, i) for i in range(4000)])
    np.testing.assert_allclose(np.bincount(ids, minlength=4) / 4000, P, atol=0.03)
    again = draw(probs, [rng_for(7, i) for i in range(4000)])
    np.testing.assert_array_equal(ids, again)
    assert not np.array_equal(ids, draw(probs, [rng_for(8, i) for i in range(4000)]))


def test_stop_text_holds_back_prefixes_and_never_returns_the_stop():
    stop = StopText(("END", "\n\n"))
    out = []
    for c in "abEx\nyEN":
        piece, stopped = stop.push(c)
        out.append(piece)
        assert not stopped
    assert "".join(out) == "abEx\ny"  # "EN" held back: it may become "END"
    piece, stopped = stop.push("D")
    assert stopped and piece == "" and stop.final == "abEx\ny"
    flushing = StopText(("END",))
    assert flushing.push("E") == ("", False)
    assert flushing.flush() == "E"


def test_earliest_stop_wins_when_two_end_together():
    stop = StopText(("b", "ab"))
    assert stop.push("x") == ("x", False)
    assert stop.push("a") == ("", False)
    assert stop.push("b") == ("", True)
    assert stop.final == "x"

"""WindowRuntime: each sequence's last W tokens re-fed every step, padded on the left."""

from __future__ import annotations

import numpy as np

from oneiros_server.runtime.window import WindowRuntime


class RecordingSession:
    """Returns a fixed distribution over 4 tokens and keeps what it was fed."""

    def __init__(self, output: np.ndarray):
        self.output = output
        self.fed: list[np.ndarray] = []

    def run(self, names, feeds):
        (x,) = feeds.values()
        self.fed.append(x)
        return [np.repeat(self.output[None], len(x), axis=0)]


def test_ids_are_padded_on_the_left_and_cut_to_the_window():
    session = RecordingSession(np.zeros(4, np.float32))
    runtime = WindowRuntime(session, length=3, vocabulary_size=4, token_dtype="int32", pad=2)
    runtime.prefill([7], [np.array([1])])
    runtime.decode([7], np.array([3]))
    runtime.decode([7], np.array([0]))
    runtime.decode([7], np.array([1]))
    assert [x.tolist() for x in session.fed] == [[[2, 2, 1]], [[2, 1, 3]], [[1, 3, 0]], [[3, 0, 1]]]
    assert session.fed[0].dtype == np.int32 and runtime.reach == 3


def test_one_hot_rows_are_zero_for_padding():
    session = RecordingSession(np.zeros(4, np.float32))
    runtime = WindowRuntime(session, length=3, vocabulary_size=4, one_hot=True)
    runtime.prefill([0, 1], [np.array([2]), np.array([0, 1, 3, 2])])
    fed = session.fed[0]  # (2, 3, 4)
    assert fed.shape == (2, 3, 4) and fed.dtype == np.float32
    assert fed[0, :2].sum() == 0 and fed[0, 2].tolist() == [0, 0, 1, 0]
    assert fed[1].argmax(-1).tolist() == [1, 3, 2]


def test_probabilities_become_log_probabilities():
    probabilities = np.array([0.5, 0.25, 0.25, 0.0], np.float32)
    runtime = WindowRuntime(RecordingSession(probabilities), length=2, vocabulary_size=4, probabilities=True)
    logits = runtime.prefill([0], [np.array([1])])
    assert np.allclose(logits[0, :3], np.log(probabilities[:3])) and np.isfinite(logits).all()


def test_fork_copies_and_release_forgets():
    session = RecordingSession(np.zeros(4, np.float32))
    runtime = WindowRuntime(session, length=2, vocabulary_size=4)
    runtime.prefill([0], [np.array([1, 2])])
    runtime.fork(0, [5, 6])
    runtime.decode([5, 6], np.array([3, 0]))
    assert session.fed[-1].tolist() == [[2, 3], [2, 0]]
    runtime.release([0, 5, 6])
    assert runtime.windows == {}

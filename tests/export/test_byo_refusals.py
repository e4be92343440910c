"""Bad models are refused before anything is written: one line on stderr naming the problem,
exit status 1, an empty repository."""

from __future__ import annotations

import numpy as np
import pytest

from oneiros_export.byo import Refused, graph
from oneiros_export.cli import main
from tests.export import keras_models as km


def _decoder_like(k, inputs, body):
    return k.Model(inputs, body, name="bad")


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory):
    """name -> saved .keras path of a model that must be refused."""
    k = km.keras()
    layers = k.layers
    folder = tmp_path_factory.mktemp("bad")
    paths = {}

    x = k.Input(shape=(4, 4))
    image = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(layers.Flatten()(x)))
    paths["rank"] = km.save(k.Model(x, image), folder, "rank")

    a, b = k.Input(shape=(2,)), k.Input(shape=(2,))
    joined = layers.Dense(784, activation="sigmoid")(layers.Concatenate()([a, b]))
    paths["two_inputs"] = km.save(k.Model([a, b], layers.Reshape((28, 28, 1))(joined)), folder, "two_inputs")

    z = k.Input(shape=(2,))
    paths["not_image"] = km.save(k.Model(z, layers.Dense(10, activation="sigmoid")(z)), folder, "not_image")

    nan = km.decoder()
    dense = next(layer for layer in nan.layers if layer.weights)
    dense.set_weights([np.full(w.shape, np.nan, np.float32) for w in dense.get_weights()])
    paths["nan"] = km.save(nan, folder, "nan")

    lstm = k.Sequential([k.Input(shape=(km.WINDOW, len(km.VOCABULARY))), layers.LSTM(4), layers.Dense(3)])
    paths["not_distribution"] = km.save(lstm, folder, "not_distribution")

    paths["free_length"] = km.save(km.char_lstm_embedding(), folder, "free_length")
    paths["not_keras"] = folder / "notes.keras"
    paths["not_keras"].write_text("not a model")
    return paths


CASES = [
    ("rank", ["--as", "decoder"], "rank 3"),
    ("two_inputs", ["--as", "decoder"], "takes 2 inputs"),
    ("not_image", ["--as", "decoder"], "not an image"),
    ("nan", ["--as", "decoder"], "NaN"),
    ("not_distribution", ["--as", "char-lm", "--vocabulary", km.VOCABULARY], "not a distribution"),
    ("free_length", ["--as", "char-lm", "--vocabulary", km.VOCABULARY], "--sequence-length"),
    ("not_keras", ["--as", "decoder"], "is not a Keras file"),
]


@pytest.mark.parametrize(("name", "options", "says"), CASES, ids=[c[0] for c in CASES])
def test_refused_in_one_line_and_nothing_written(bad_models, tmp_path, capsys, name, options, says):
    root = tmp_path / "repository"
    assert main(["keras", str(bad_models[name]), *options, "--repository", str(root)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("oneiros-export: refused: ") and says in err, err
    assert not root.exists() or not any(root.iterdir())


def test_a_torch_module_of_two_inputs_is_refused(tmp_path, capsys):
    target = "tests.export.byo_torch_models:make_two_inputs"
    argv = ["torch", target, "--as", "generator", "--latent-size", "2", "--repository", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fails on input" in err
    assert not any(tmp_path.iterdir())


def test_options_that_cannot_work_are_refused_before_loading(tmp_path, capsys):
    assert main(["keras", "missing.keras", "--as", "generator", "--encoder", "e.keras"]) == 1
    assert "--encoder goes with --as decoder" in capsys.readouterr().err
    assert main(["keras", "missing.keras", "--as", "char-lm", "--vocabulary", "abca"]) == 1
    assert "repeats 'a'" in capsys.readouterr().err


def test_parity_catches_the_silent_wrong_length_export(tmp_path):
    """The issue's measured fact: a free-length Embedding LSTM traced at one length is wrong at another."""
    import torch

    module = graph.wrap(km.char_lstm_embedding())
    traced = np.zeros((2, km.WINDOW), np.int32)
    path = tmp_path / "free.onnx"
    axes = {"ids": {0: "batch", 1: "time"}, "next": {0: "batch"}}
    torch.onnx.export(
        module, (torch.from_numpy(traced),), str(path), dynamo=False, input_names=["ids"],
        output_names=["next"], dynamic_axes=axes, opset_version=17,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    same = rng.integers(0, len(km.VOCABULARY), (3, km.WINDOW)).astype(np.int32)
    assert graph.parity(module, path, {"traced length": same}, "lstm")["traced length"] <= 1e-4
    other = rng.integers(0, len(km.VOCABULARY), (3, km.WINDOW + 4)).astype(np.int32)  # runs, reads only 10
    with pytest.raises(Refused, match="differs from the source"):
        graph.parity(module, path, {"another length": other}, "lstm")

"""``oneiros-export keras`` and ``torch``: tiny models of each role, built and saved in the test,
imported into a repository, served on port 0 and called through gRPC; the served outputs equal
the source model's (the ONNX graph within 1e-4; images to the 8-bit level the PNG holds)."""

from __future__ import annotations

import io
import json

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_export.check import check_model
from oneiros_export.cli import main
from tests.export import keras_models as km


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Every role imported once into one repository: (repository, Keras models by name)."""
    sources = tmp_path_factory.mktemp("sources")
    root = tmp_path_factory.mktemp("repository")
    models = {
        "decoder": km.decoder(),
        "encoder": km.encoder(),
        "generator": km.generator(),
        "one_hot": km.char_lstm_one_hot(),
        "embedding": km.char_lstm_embedding(),
        "transformer": km.transformer_lm(),
    }
    paths = {name: km.save(model, sources, name) for name, model in models.items()}
    vocabulary = sources / "vocabulary.txt"
    vocabulary.write_text(km.VOCABULARY)
    labels = sources / "labels.csv"
    rows = ["image,bright"]
    for i, level in enumerate((0, 40, 200, 255)):
        Image.fromarray(np.full((28, 28), level, np.uint8)).save(sources / f"{i}.png")
        rows.append(f"{i}.png,{int(level > 100)}")
    labels.write_text("\n".join(rows) + "\n")
    repo = ["--repository", str(root)]
    commands = [
        ["keras", str(paths["decoder"]), "--as", "decoder", "--encoder", str(paths["encoder"]), "--name", "vae"]
        + ["--attributes", str(labels)],
        ["keras", str(paths["generator"]), "--as", "generator", "--name", "dcgan"],
        ["keras", str(paths["one_hot"]), "--as", "char-lm", "--vocabulary", str(vocabulary), "--name", "lstm"],
        ["keras", str(paths["embedding"]), "--as", "char-lm", "--vocabulary", km.VOCABULARY]
        + ["--sequence-length", str(km.WINDOW), "--name", "lstm-ids"],
        ["torch", "tests.export.byo_torch_models:make_generator", "--as", "generator", "--name", "torch-gan"],
        ["keras", str(paths["transformer"]), "--as", "transformer-lm", "--vocabulary", km.VOCABULARY]
        + ["--name", "transformer"],
    ]
    for command in commands:
        assert main(command + repo) == 0, command
    return root, models


def _manifest(root, name):
    return json.loads((root / name / "1" / "model.json").read_text())


def _pixels(image: pb.Image) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image.data)), np.int16)


def _as_uint8(unit: np.ndarray) -> np.ndarray:
    return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.int16)


def test_what_the_importer_detects_is_recorded(imported):
    root, _ = imported
    vae, gan, lstm, ids = (_manifest(root, n)["spec"] for n in ("vae", "dcgan", "lstm", "lstm-ids"))
    assert vae["latent_size"] == 2 and vae["image_shape"] == [28, 28, 1] and vae["layout"] == "NHWC"
    assert vae["pixel_range"] == [0.0, 1.0] and vae["encoder"]["outputs"] == ["mean", "logvar"]
    assert list(vae["attributes"]) == ["bright"] and len(vae["attributes"]["bright"]) == 2
    assert gan["pixel_range"] == [-1.0, 1.0] and gan["image_shape"] == [8, 8, 3]
    assert lstm["window"]["encoding"] == "one_hot" and lstm["distribution"] == "probabilities"
    assert ids["token_dtype"] == "int32" and ids["window"] == {
        "length": km.WINDOW,
        "input": "ids",
        "output": "next",
        "encoding": "ids",
        "pad": 0,
    }
    training = _manifest(root, "lstm-ids")["training"]
    assert training["command"].startswith("oneiros-export keras ") and "--sequence-length 10" in training["command"]
    assert all(v <= 1e-4 for v in training["export"]["window"]["parity_max_abs"].values())
    assert len(training["export"]["window"]["parity_max_abs"]) == 3  # batch 1, batch 7, a short padded context
    torch_gan = _manifest(root, "torch-gan")["spec"]
    assert torch_gan["layout"] == "NCHW" and torch_gan["pixel_range"] == [-1.0, 1.0] and torch_gan["latent_size"] == 5
    for name in ("vae", "dcgan", "lstm", "lstm-ids", "torch-gan"):
        assert check_model(root / name / "1") == []
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no scratch folder left


def test_onnx_graphs_equal_keras_within_1e_4(imported):
    root, models = imported
    z = np.random.default_rng(5).standard_normal((7, km.LATENT)).astype(np.float32)
    decoder = ort.InferenceSession(str(root / "vae/1/decoder.onnx"))
    assert np.abs(decoder.run(None, {"latent": z})[0] - models["decoder"].predict(z, verbose=0)).max() <= 1e-4
    x = np.random.default_rng(6).uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    encoder = ort.InferenceSession(str(root / "vae/1/encoder.onnx"))
    mean, logvar = encoder.run(["mean", "logvar"], {"image": x})
    expected = models["encoder"].predict(x, verbose=0)
    assert np.abs(mean - expected[0]).max() <= 1e-4 and np.abs(logvar - expected[1]).max() <= 1e-4


def test_served_decode_equals_keras(imported, serve):
    root, models = imported
    stub = serve(root).stub
    z = np.random.default_rng(7).standard_normal((3, km.LATENT)).astype(np.float32)
    latents = [pb.Vector(values=v.tolist()) for v in z]
    vae = stub.Decode(pb.DecodeRequest(model="vae", latents=latents))
    expected = _as_uint8(models["decoder"].predict(z, verbose=0)[..., 0])
    assert all(np.abs(_pixels(img) - e).max() <= 1 for img, e in zip(vae.images, expected, strict=True))
    z3 = np.random.default_rng(8).standard_normal((2, 3)).astype(np.float32)
    gan = stub.Decode(pb.DecodeRequest(model="dcgan", latents=[pb.Vector(values=v.tolist()) for v in z3]))
    expected = _as_uint8((models["generator"].predict(z3, verbose=0) + 1.0) / 2.0)  # tanh -> [0, 1]
    assert all(np.abs(_pixels(img) - e).max() <= 1 for img, e in zip(gan.images, expected, strict=True))
    info = stub.GetModel(pb.GetModelRequest(name="dcgan"))
    assert list(info.image_shape) == [8, 8, 3] and info.status == pb.READY


def test_served_torch_generator_equals_torch(imported, serve):
    from tests.export.byo_torch_models import make_generator

    root, _ = imported
    stub = serve(root).stub
    z = np.random.default_rng(9).standard_normal((2, 5)).astype(np.float32)
    response = stub.Decode(pb.DecodeRequest(model="torch-gan", latents=[pb.Vector(values=v.tolist()) for v in z]))
    import torch

    with torch.no_grad():
        expected = make_generator()(torch.from_numpy(z)).numpy()[:, 0]  # (B, 12, 12) in [-1, 1]
    expected = _as_uint8((expected + 1.0) / 2.0)
    assert all(np.abs(_pixels(img) - e).max() <= 1 for img, e in zip(response.images, expected, strict=True))


def test_served_edit_encodes_with_the_keras_encoder(imported, serve):
    root, models = imported
    stub = serve(root).stub
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a "1", 20 pixels tall and centred as MNIST: the server feeds it unchanged
    buffer = io.BytesIO()
    Image.fromarray(digit).save(buffer, "PNG")
    response = stub.EditLatent(pb.EditLatentRequest(model="vae", image=pb.Image(data=buffer.getvalue())))
    expected = models["encoder"].predict(digit[None, :, :, None].astype(np.float32) / 255.0, verbose=0)[0][0]
    assert np.abs(np.array(response.source_latent.values) - expected).max() <= 1e-4


@pytest.mark.parametrize(
    ("name", "model", "one_hot"),
    [("lstm", "one_hot", True), ("lstm-ids", "embedding", False), ("transformer", "transformer", False)],
)
def test_served_char_lm_samples_as_keras_does(imported, serve, name, model, one_hot):
    root, models = imported
    stub = serve(root).stub
    for prompt in ("ab", "abcdefgh abcdefgh"):  # shorter and longer than the window
        response = stub.Sample(pb.SampleRequest(model=name, prompt=prompt, max_tokens=8, temperature=0.0))
        assert response.completions[0].text == km.greedy(models[model], prompt, 8, one_hot)

"""Tiny hand-built VAE/GAN repositories for latent-engine and transport tests (no training),
and the MNIST subset and classifier that the training tests share.

The decoder is ``sigmoid(z @ W + b)`` reshaped to (N, 28, 28, 1); the encoder is a linear map of
the flattened image to the mean (and a zero log-variance). Both have a dynamic batch axis.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from oneiros_server.repository.manifest import Manifest, file_ref, write_manifest


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def decoder_graph(weights: np.ndarray, bias: np.ndarray) -> onnx.GraphProto:
    d = weights.shape[0]
    nodes = [
        helper.make_node("MatMul", ["latent", "W"], ["zw"]),
        helper.make_node("Add", ["zw", "b"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["flat"]),
        helper.make_node("Reshape", ["flat", "shape"], ["image"]),
    ]
    inits = [
        numpy_helper.from_array(weights.astype(np.float32), "W"),
        numpy_helper.from_array(bias.astype(np.float32), "b"),
        numpy_helper.from_array(np.array([-1, 28, 28, 1], np.int64), "shape"),
    ]
    return helper.make_graph(
        nodes,
        "decoder",
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["batch", d])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 28, 28, 1])],
        inits,
    )


def encoder_graph(weights: np.ndarray) -> onnx.GraphProto:
    d = weights.shape[1]
    nodes = [
        helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["mean"]),
        helper.make_node("Mul", ["mean", "zero"], ["logvar"]),
    ]
    inits = [
        numpy_helper.from_array(weights.astype(np.float32), "W"),
        numpy_helper.from_array(np.array([-1, 784], np.int64), "flat_shape"),
        numpy_helper.from_array(np.zeros((), np.float32), "zero"),
    ]
    return helper.make_graph(
        nodes,
        "encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 28, 28, 1])],
        [
            helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", d]),
            helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["batch", d]),
        ],
        inits,
    )


def make_latent_model(
    root: Path,
    name: str = "tiny-vae",
    latent_size: int = 4,
    kind: str = "VAE",
    default_for: tuple[str, ...] = ("Decode", "EditLatent"),
    seed: int = 0,
    version: str = "1",
) -> Path:
    """Write ``root/<name>/<version>`` (decoder, encoder for a VAE, attributes) and return that folder."""
    rng = np.random.default_rng(seed)
    out = root / name / version
    out.mkdir(parents=True, exist_ok=True)
    _save(decoder_graph(rng.standard_normal((latent_size, 784)), rng.standard_normal(784) - 1.0), out / "decoder.onnx")
    files = {"decoder": file_ref(out, "decoder.onnx")}
    if kind == "VAE":
        _save(encoder_graph(rng.standard_normal((784, latent_size)) * 0.05), out / "encoder.onnx")
        files["encoder"] = file_ref(out, "encoder.onnx")
    attributes = {n: rng.standard_normal(latent_size).round(4).tolist() for n in ("thickness", "slant", "width")}
    attributes |= {f"digit_{c}": rng.standard_normal(latent_size).round(4).tolist() for c in range(10)}
    manifest = Manifest(
        name=name,
        version=version,
        kind=kind,
        runtime="onnxruntime",
        default_for=list(default_for),
        files=files,
        spec={
            "latent_size": latent_size,
            "image_shape": [28, 28, 1],
            "prior": "standard_normal",
            "attributes": attributes,
        },
        metrics={"neg_elbo_nats": 0.0},
    )
    write_manifest(out, manifest)
    return out


@functools.cache
def mnist_subset(train: int = 6000, test: int = 1000):
    """The first ``train``/``test`` MNIST digits (loaded once per test session)."""
    from oneiros_training.mnist import load_mnist

    full = load_mnist()
    return {"train": full["train"].head(train), "test": full["test"].head(test)}


@functools.cache
def tiny_classifier():
    """A small MNIST classifier trained for two epochs on ``mnist_subset()`` (about 90% accurate)."""
    import torch

    from oneiros_training.classifier import train_classifier

    torch.set_num_threads(1)
    model, _ = train_classifier(mnist_subset()["train"], epochs=2, width=8, progress=False)
    return model

"""repository/verify.py: each ONNX graph against the contract its kind's spec derives."""

from __future__ import annotations

import onnxruntime as ort
import torch

from oneiros_server.repository.verify import session_problems
from oneiros_server.specs import StyleNetworkSpec


def _conv(path, dynamic: dict) -> ort.InferenceSession:
    torch.onnx.export(
        torch.nn.Conv2d(3, 3, 1), (torch.rand(1, 3, 8, 8),), str(path), dynamo=False, input_names=["content"],
        output_names=["image"], dynamic_axes={"content": dynamic, "image": dynamic}, opset_version=17,
    )  # fmt: skip
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_a_style_network_with_free_batch_height_and_width_meets_its_contract(tmp_path):
    spec = StyleNetworkSpec.model_validate({"painting": {"file": "painting.jpg"}})
    contract = spec.graphs({"network": "model.onnx", "painting": "painting.jpg"})["network"]
    session = _conv(tmp_path / "free.onnx", {0: "batch", 2: "height", 3: "width"})
    assert session_problems(session, contract, "network") == []


def test_fixed_axes_and_wrong_names_are_named(tmp_path):
    spec = StyleNetworkSpec.model_validate({"painting": {"file": "p.jpg"}, "input": "photo"})
    contract = spec.graphs({"network": "model.onnx"})["network"]
    session = _conv(tmp_path / "fixed.onnx", {0: "batch"})
    problems = session_problems(session, contract, "network")
    assert "files.network: input 'photo' is missing; the graph has 'content' [batch, 3, 8, 8]" in problems
    assert "files.network: input 'content' is not in the spec" in problems
    assert "files.network: output 'image' axis 2 is fixed at 8; it must be dynamic (height)" in problems

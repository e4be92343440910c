"""ONNX export with a dynamic batch axis, and a torch-vs-ONNX Runtime parity check."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch


def export_onnx(
    module: torch.nn.Module,
    example: Sequence[torch.Tensor],
    path: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    exporter: str = "dynamo",
) -> Path:
    """Export ``module`` to one self-contained ONNX file; axis 0 of every input and output is ``batch``.

    ``exporter`` is "dynamo" (torch.export based, torch's default) or "torchscript" (the older
    exporter: about 10x faster for these small conv nets, used by the tests). The result is
    parity-checked either way.
    """
    module.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim("batch", min=1, max=1 << 16)
            program = torch.onnx.export(
                module,
                tuple(example),
                dynamo=True,
                dynamic_shapes=tuple({0: batch} for _ in example),
                input_names=list(input_names),
                output_names=list(output_names),
                verbose=False,
            )
            program.save(str(path), external_data=False)
        elif exporter == "torchscript":
            axes = {name: {0: "batch"} for name in (*input_names, *output_names)}
            torch.onnx.export(
                module,
                tuple(example),
                str(path),
                dynamo=False,
                dynamic_axes=axes,
                input_names=list(input_names),
                output_names=list(output_names),
                opset_version=17,
            )
        else:
            raise ValueError(f"unknown exporter {exporter!r}")
    return path


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@torch.no_grad()
def parity(module: torch.nn.Module, path: Path, inputs: Sequence[torch.Tensor]) -> float:
    """Max abs difference between torch and ONNX Runtime over all outputs on ``inputs``."""
    expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    sess = session(path)
    feeds = {i.name: t.numpy() for i, t in zip(sess.get_inputs(), inputs, strict=True)}
    got = sess.run(None, feeds)
    return max(float(np.max(np.abs(e.numpy() - g))) for e, g in zip(expected, got, strict=True))

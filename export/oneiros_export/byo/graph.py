"""Trace a source model to one ONNX file with a dynamic batch axis, and prove it: ONNX Runtime
against the source on the same inputs, refusing NaN and any difference above 1e-4."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from oneiros_export.byo import Refused

TOLERANCE = 1e-4


def wrap(inner: Any, pick: Sequence[int] | None = None, last_step: bool = False) -> Any:
    """A torch module of one input around ``inner``: keeps outputs ``pick`` (all if None) and,
    with ``last_step``, only the last time step of a (B, T, V) output."""
    import torch

    class Served(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> Any:
            out = self.inner(x)
            outs = list(out) if isinstance(out, list | tuple) else [out]
            if pick is not None:
                outs = [outs[i] for i in pick]
            if last_step:
                outs = [o[:, -1] for o in outs]  # (B, T, V) -> (B, V)
            return tuple(outs) if len(outs) > 1 else outs[0]

    return Served().eval()


def run_torch(module: Any, x: np.ndarray) -> list[np.ndarray]:
    import torch

    with torch.no_grad():
        out = module(torch.from_numpy(np.ascontiguousarray(x)))
    outs = list(out) if isinstance(out, list | tuple) else [out]
    return [o.detach().cpu().numpy() for o in outs]


def probe(module: Any, x: np.ndarray, what: str) -> list[np.ndarray]:
    """``run_torch``, with a failure (say, a model of two inputs) refused in one line."""
    try:
        return run_torch(module, x)
    except Exception as exc:  # noqa: BLE001 - the reader's model failed on the input it should take
        message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise Refused(f"{what} fails on input of shape {x.shape} ({exc.__class__.__name__}: {message})") from None


def export(module: Any, example: np.ndarray, path: Path, input_name: str, output_names: list[str]) -> str:
    """Write ``module`` to ``path`` (axis 0 dynamic); returns the exporter that worked.

    The TorchScript exporter first (fast), then torch.export ("dynamo"), which traces what the
    older one cannot (a Keras LayerNormalization, say). Either way ``parity`` must pass after.
    """
    import torch

    x = torch.from_numpy(np.ascontiguousarray(example))
    failures = []
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # a failed trace prints its graph
        warnings.simplefilter("ignore")
        try:
            axes = {name: {0: "batch"} for name in (input_name, *output_names)}
            torch.onnx.export(
                module,
                (x,),
                str(path),
                dynamo=False,
                input_names=[input_name],
                output_names=output_names,
                dynamic_axes=axes,
                opset_version=17,
            )
            return "torchscript"
        except Exception as exc:  # noqa: BLE001 - fall back to the other exporter
            failures.append(f"torchscript: {exc.__class__.__name__}")
        try:
            batch = torch.export.Dim("batch", min=1, max=1 << 16)
            program = torch.onnx.export(
                module,
                (x,),
                dynamo=True,
                dynamic_shapes=({0: batch},),
                input_names=[input_name],
                output_names=output_names,
                verbose=False,
            )
            program.save(str(path), external_data=False)
            return "dynamo"
        except Exception as exc:  # noqa: BLE001 - both failed: refuse, naming both
            failures.append(f"dynamo: {exc.__class__.__name__}")
    raise Refused(f"the model could not be exported to ONNX ({'; '.join(failures)})")


def parity(module: Any, path: Path, cases: dict[str, np.ndarray], what: str) -> dict[str, float]:
    """Max abs difference, ONNX Runtime vs the source, per named case; Refused above TOLERANCE or on NaN."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    result = {}
    for case, x in cases.items():
        expected = run_torch(module, x)
        try:
            got = session.run(None, {name: x})
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime rejects the graph on this input
            raise Refused(f"{what}: ONNX Runtime fails at {case} ({exc.__class__.__name__})") from None
        for label, arrays in (("the source model", expected), ("ONNX Runtime", got)):
            if not all(np.all(np.isfinite(a)) for a in arrays):
                raise Refused(f"{what}: {label} gave NaN or infinite values at {case}")
        diff = max(float(np.max(np.abs(e - g))) for e, g in zip(expected, got, strict=True))
        if diff > TOLERANCE:
            raise Refused(
                f"{what}: ONNX Runtime differs from the source by {diff:.3g} at {case} (limit {TOLERANCE:g}); "
                "the exported graph is wrong for this input"
            )
        result[case] = diff
    return result

"""The reader's model as a torch module: a Keras 3 file (on Keras' torch backend) or a torch
factory ``MODULE:FACTORY``. Keras and torch are imported here, when a command needs them."""

from __future__ import annotations

import importlib
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oneiros_export.byo import Refused


@dataclass
class Source:
    """A model ready to trace: ``module`` maps torch tensors to a tensor or a list of them."""

    module: Any  # torch.nn.Module, in eval mode
    origin: str  # "keras" or "torch"
    input_shapes: list[tuple[int | None, ...]] = field(default_factory=list)  # per input, batch axis first
    input_dtypes: list[str] = field(default_factory=list)
    output_shapes: list[tuple[int | None, ...]] = field(default_factory=list)
    final_activation: str = ""  # "sigmoid", "tanh", "softmax", ... where it can be read
    record: dict[str, Any] = field(default_factory=dict)  # what model.json's training.source says

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """The source model on numpy inputs: every output as numpy."""
        import torch

        with torch.no_grad():
            out = self.module(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays))
        outs = list(out) if isinstance(out, list | tuple) else [out]
        return [o.detach().cpu().numpy() for o in outs]


def _import_modules(names: list[str]) -> None:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any failure is the reader's module's; name it
            raise Refused(f"--import {name}: {exc.__class__.__name__}: {exc}") from None


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") if activation is not None else ""


def load_keras(path: Path, imports: list[str] = ()) -> Source:
    """A ``.keras`` file (``model.save``) on the torch backend; ``imports`` hold custom layers."""
    if os.environ.setdefault("KERAS_BACKEND", "torch") != "torch":
        raise Refused(f"KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}; oneiros-export needs 'torch'")
    if not path.is_file():
        raise Refused(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise Refused(f"{path} is not a Keras file (a .keras archive written by model.save)")
    _import_modules(list(imports))
    import keras

    try:
        model = keras.saving.load_model(str(path), compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; the first line says which
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise Refused(f"{path} could not be loaded by Keras ({exc.__class__.__name__}: {first[:200]})") from None
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError):
        raise Refused(f"{path}: the model has no defined inputs; build it with keras.Input(shape=...)") from None
    model.eval()
    last = model.layers[-1] if model.layers else None
    return Source(
        module=model,
        origin="keras",
        input_shapes=[tuple(t.shape) for t in inputs],
        input_dtypes=[str(t.dtype) for t in inputs],
        output_shapes=[tuple(t.shape) for t in outputs],
        final_activation=_activation_name(last) if last is not None else "",
        record={
            "format": f"Keras {keras.__version__} ({path.suffix or 'no suffix'}, torch backend)",
            "model": model.name,
        },
    )


def load_torch(target: str, imports: list[str] = ()) -> Source:
    """``MODULE:FACTORY``: ``FACTORY()`` returns a ``torch.nn.Module`` with its weights loaded."""
    import torch

    module_name, _, factory_name = target.partition(":")
    if not module_name or not factory_name:
        raise Refused(f"{target!r} is not MODULE:FACTORY (e.g. mymodels:make_decoder)")
    _import_modules([*imports, module_name])
    factory = getattr(sys.modules[module_name], factory_name, None)
    if not callable(factory):
        raise Refused(f"{module_name} has no callable {factory_name!r}")
    try:
        module = factory()
    except Exception as exc:  # noqa: BLE001 - the reader's factory failed; say how
        raise Refused(f"{target}() failed: {exc.__class__.__name__}: {exc}") from None
    if not isinstance(module, torch.nn.Module):
        raise Refused(f"{target}() returned a {type(module).__name__}, not a torch.nn.Module")
    module.eval()
    leaves = [m for m in module.modules() if not list(m.children())]
    last = type(leaves[-1]).__name__.lower() if leaves else ""
    return Source(
        module=module,
        origin="torch",
        final_activation={"sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}.get(last, ""),
        record={"format": f"torch {torch.__version__} module", "model": type(module).__name__},
    )

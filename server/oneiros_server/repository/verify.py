"""Everything checked before a model version loads, one problem per line: ``model.json``
against the schema, every file against its sha256, every ONNX graph against what the spec
says it takes and gives. The server's loader and ``oneiros-export check`` both call these."""

from __future__ import annotations

import json
from pathlib import Path

import onnxruntime as ort
from pydantic import ValidationError

from oneiros_server.repository.manifest import Manifest, sha256_file
from oneiros_server.specs import SPECS, GraphContract, TensorContract

ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def read_manifest(version_dir: Path) -> tuple[Manifest | None, list[str]]:
    """``model.json`` of ``version_dir`` validated, or the problems found, one per field."""
    try:
        data = json.loads((version_dir / "model.json").read_text())
    except OSError as exc:
        return None, [f"model.json: cannot be read ({exc.strerror or exc.__class__.__name__})"]
    except ValueError as exc:
        return None, [f"model.json: not JSON ({exc})"]
    try:
        return Manifest.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"]) or "model.json"
            problems.append(f"{path}: {error['msg']}")
        return None, problems


def file_problems(manifest: Manifest, version_dir: Path) -> list[str]:
    """Files that are missing or do not match their sha256."""
    problems = []
    for role, ref in manifest.files.items():
        path = version_dir / ref.path
        if not path.is_file():
            problems.append(f"files.{role}: {ref.path!r} is missing")
        elif sha256_file(path) != ref.sha256:
            problems.append(f"files.{role}: {ref.path!r} does not match its sha256")
    return problems


def _shape(dims) -> str:
    return "[" + ", ".join(str(d) if d is not None else "?" for d in dims) + "]"


def _tensor_problems(where: str, name: str, arg, want: TensorContract) -> list[str]:
    dtype = ORT_DTYPES.get(arg.type, arg.type)
    problems = []
    if dtype != want.dtype:
        problems.append(f"{where} {name!r} is {dtype}, the spec needs {want.dtype}")
    if len(arg.shape) != want.rank:
        problems.append(f"{where} {name!r} has rank {len(arg.shape)} {_shape(arg.shape)}, the spec needs {want.rank}")
        return problems
    for axis, (got, expected) in enumerate(zip(arg.shape, want.shape, strict=True)):
        fixed = isinstance(got, int)
        if isinstance(expected, str) and fixed:
            problems.append(f"{where} {name!r} axis {axis} is fixed at {got}; it must be dynamic ({expected})")
        elif isinstance(expected, int) and fixed and got != expected:
            problems.append(f"{where} {name!r} axis {axis} is {got}, the spec says {expected}")
    return problems


def session_problems(session: ort.InferenceSession, contract: GraphContract, role: str) -> list[str]:
    """How the graph of ``session`` differs from ``contract`` (names, dtypes, ranks, fixed axes)."""
    problems = []
    for where, args, wanted, extra_ok in (
        ("input", session.get_inputs(), contract.inputs, False),
        ("output", session.get_outputs(), contract.outputs, True),
    ):
        by_name = {arg.name: arg for arg in args}
        for name, want in wanted.items():
            if name in by_name:
                problems += _tensor_problems(where, name, by_name[name], want)
            else:
                found = ", ".join(f"{a.name!r} {_shape(a.shape)}" for a in args)
                problems.append(f"{where} {name!r} is missing; the graph has {found}")
        if not extra_ok:
            problems += [f"{where} {name!r} is not in the spec" for name in by_name if name not in wanted]
    return [f"files.{role}: {p}" for p in problems]


def graph_problems(manifest: Manifest, version_dir: Path) -> list[str]:
    """Each ONNX graph of ``manifest`` against its kind's contract (``spec.graphs(files)``)."""
    model = SPECS.get(manifest.kind)
    if manifest.runtime != "onnxruntime" or model is None:
        return []
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    problems = []
    for role, contract in model.model_validate(manifest.spec).graphs(manifest.files).items():
        path = version_dir / manifest.files[role].path
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - any load failure is the one problem of this file
            problems.append(f"files.{role}: {path.name} is not a valid ONNX graph ({exc.__class__.__name__})")
            continue
        problems += session_problems(session, contract, role)
    return problems

"""What an ONNX graph named in ``model.json`` must look like: input and output names, dtypes,
ranks, and which axes are fixed. Derived from a spec (``graphs(files)`` on each spec model) and
compared against a real session by ``oneiros_server.repository.graphs``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

TensorDtype = Literal["float32", "int32", "int64"]
Dim = int | str  # a fixed size, or a named (dynamic) axis such as "batch"


class Strict(BaseModel):
    """Base of every spec model: an unknown field is an error naming its path."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class TensorContract:
    """One input or output: its dtype and shape (ints must match; names are free axes)."""

    dtype: TensorDtype
    shape: tuple[Dim, ...]

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class GraphContract:
    """The inputs a graph must take and the outputs it must give (it may give more outputs)."""

    inputs: dict[str, TensorContract] = field(default_factory=dict)
    outputs: dict[str, TensorContract] = field(default_factory=dict)

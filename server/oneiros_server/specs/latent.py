"""``spec`` of a VAE or a GAN: a decoder (or generator) from latent points to images, and for a
VAE an encoder from images to the latent mean."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from oneiros_server.specs.contract import GraphContract, Strict, TensorContract


class DecoderIO(Strict):
    """Names of the decoder's (or generator's) input and output tensors."""

    input: str = "latent"
    output: str = "image"


class EncoderIO(Strict):
    """Names of the encoder's input and outputs: the mean first, then (optionally) the log-variance."""

    input: str = "image"
    outputs: list[str] = Field(default=["mean", "logvar"], min_length=1, max_length=2)


class LatentSpec(Strict):
    """A latent space and the graphs that map it to images (and back, for a VAE)."""

    latent_size: int = Field(ge=1, le=1 << 20, description="length of a latent point")
    image_shape: tuple[int, int, int] = Field(
        default=(28, 28, 1), description="(height, width, channels) of one image; channels 1 or 3"
    )
    prior: Literal["standard_normal"] = Field(default="standard_normal", description="what Decode samples from")
    layout: Literal["NHWC", "NCHW"] = Field(
        default="NHWC", description="axis order of image tensors (Keras: NHWC; PyTorch: NCHW)"
    )
    pixel_range: tuple[float, float] = Field(
        default=(0.0, 1.0), description="pixel values of black and white (sigmoid: [0, 1]; tanh: [-1, 1])"
    )
    polarity: Literal["white_on_black", "black_on_white"] | None = Field(
        default=None, description="for digits: MNIST is white on black"
    )
    decoder: DecoderIO | None = Field(default=None, description="VAE: files.decoder's tensor names")
    generator: DecoderIO | None = Field(default=None, description="GAN: files.generator's tensor names")
    encoder: EncoderIO | None = Field(default=None, description="VAE: files.encoder's tensor names")
    attributes: dict[str, list[float]] = Field(
        default={}, description="attribute name -> direction in latent space (latent_size numbers)"
    )
    attribute_notes: str = Field(default="", description="how the attribute vectors were found")
    attribute_check: dict[str, Any] = Field(default={}, description="measurements of the attribute vectors")
    quality_reference: str = Field(default="", description="what the quality metrics were measured against")
    compared_with: str = Field(default="", description="the model the metrics are compared with")

    @model_validator(mode="after")
    def _consistent(self) -> LatentSpec:
        low, high = self.pixel_range
        if not low < high:
            raise ValueError(f"pixel_range {list(self.pixel_range)} must be [low, high] with low < high")
        if self.image_shape[2] not in (1, 3) or min(self.image_shape) < 1:
            raise ValueError(f"image_shape {list(self.image_shape)} must be (height, width, 1 or 3)")
        for name, vector in self.attributes.items():
            if len(vector) != self.latent_size or not all(math.isfinite(v) for v in vector):
                raise ValueError(f"attribute {name!r} must be {self.latent_size} finite numbers")
        return self

    def decoder_role(self, files: Mapping[str, Any]) -> str:
        """``decoder`` (a VAE) or ``generator`` (a GAN): whichever ``files`` names."""
        for role in ("decoder", "generator"):
            if role in files:
                return role
        raise ValueError("files must name a 'decoder' (VAE) or a 'generator' (GAN)")

    def decoder_io(self, role: str) -> DecoderIO:
        return (self.decoder if role == "decoder" else self.generator) or DecoderIO()

    def encoder_io(self) -> EncoderIO:
        return self.encoder or EncoderIO()

    def image_dims(self) -> tuple[int | str, ...]:
        height, width, channels = self.image_shape
        if self.layout == "NCHW":
            return ("batch", channels, height, width)
        return ("batch", height, width, channels)

    def graphs(self, files: Mapping[str, Any]) -> dict[str, GraphContract]:
        """File role -> what its graph must take and give."""
        role = self.decoder_role(files)
        io = self.decoder_io(role)
        latent = TensorContract("float32", ("batch", self.latent_size))
        image = TensorContract("float32", self.image_dims())
        contracts = {role: GraphContract({io.input: latent}, {io.output: image})}
        if "encoder" in files:
            encoder = self.encoder_io()
            contracts["encoder"] = GraphContract({encoder.input: image}, dict.fromkeys(encoder.outputs, latent))
        return contracts

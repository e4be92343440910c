"""Decode and EditLatent: proto <-> the latent engine's dataclasses."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.latent.requests import AttributeEdit, DecodeRequest, EditRequest, Grid, LatentResult
from oneiros_server.errors import FieldError
from oneiros_server.settings import Settings
from oneiros_server.transport.convert.images import decode_image, encode_image

DIGIT_MAX_SIDE = 256  # an input image is reduced to this while it is decoded (a digit needs 20 px)


def _image(settings: Settings, image: pb.Image, field: str) -> Callable[[], Image.Image]:
    """The image's decoder: the engine calls it once it knows the model can encode images
    (a GAN answers FAILED_PRECONDITION without decoding anything); reduced to ``DIGIT_MAX_SIDE``
    while decoding, so the 28x28 digit made from it costs little."""
    limits = {"max_bytes": settings.max_image_bytes, "max_pixels": settings.max_image_pixels}
    return lambda: decode_image(image.data, field, **limits, mode="L", max_side=DIGIT_MAX_SIDE)


def has_image(request: pb.EditLatentRequest) -> bool:
    """True when the request carries an image: its validation (decoding) runs on a worker thread."""
    return request.WhichOneof("source") == "image" or request.WhichOneof("target") == "target_image"


def _check_lengths(request, settings: Settings) -> None:
    """Refuse an over-long list before converting it: the conversion grows with the input."""
    limit = settings.max_images_per_request
    for name in ("latents", "strengths"):
        if name in request.DESCRIPTOR.fields_by_name and len(getattr(request, name)) > limit:
            raise FieldError(name, f"has {len(getattr(request, name))} entries; at most {limit}")


def _images(result: LatentResult, fmt: str) -> list[pb.Image]:
    return [pb.Image(data=encode_image(image, fmt)) for image in result.images]


def _vectors(points) -> list[pb.Vector]:
    return [pb.Vector(values=p.tolist()) for p in points]


def decode_request(request: pb.DecodeRequest, settings: Settings) -> DecodeRequest:
    _check_lengths(request, settings)
    grid = None
    if request.HasField("grid"):
        g = request.grid
        grid = Grid(axis_x=g.axis_x, axis_y=g.axis_y, steps=g.steps, extent=g.extent)
    return DecodeRequest(
        latents=[list(v.values) for v in request.latents],
        count=request.count,
        seed=request.seed if request.HasField("seed") else None,
        grid=grid,
    )


def decode_response(result: LatentResult, request: pb.DecodeRequest) -> pb.DecodeResponse:
    fmt = pb.ImageFormat.Name(request.output_format)
    return pb.DecodeResponse(images=_images(result, fmt), latents=_vectors(result.latents))


def edit_request(request: pb.EditLatentRequest, settings: Settings) -> EditRequest:
    _check_lengths(request, settings)
    source, target = request.WhichOneof("source"), request.WhichOneof("target")
    return EditRequest(
        image=_image(settings, request.image, "image") if source == "image" else None,
        latent=list(request.latent.values) if source == "latent" else None,
        edits=[AttributeEdit(e.attribute, e.strength) for e in request.edits],
        direction=list(request.direction.values) if request.HasField("direction") else None,
        strengths=list(request.strengths),
        sweep_attribute=request.sweep_attribute,
        target_image=_image(settings, request.target_image, "target_image") if target == "target_image" else None,
        target_latent=list(request.target_latent.values) if target == "target_latent" else None,
        interpolation_steps=request.interpolation_steps,
        interpolation=pb.Interpolation.Name(request.interpolation),
    )


def edit_response(result: LatentResult, request: pb.EditLatentRequest) -> pb.EditLatentResponse:
    fmt = pb.ImageFormat.Name(request.output_format)
    return pb.EditLatentResponse(
        images=_images(result, fmt),
        latents=_vectors(result.latents),
        source_latent=pb.Vector(values=result.source_latent.tolist()),
    )

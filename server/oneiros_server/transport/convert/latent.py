"""Decode and EditLatent: proto <-> the latent engine's dataclasses."""

from __future__ import annotations

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.engines.latent.engine import (
    AttributeEdit,
    DecodeRequest,
    EditRequest,
    Grid,
    LatentEngine,
    LatentResult,
)
from oneiros_server.errors import FieldError
from oneiros_server.repository import ModelRepository
from oneiros_server.transport.convert.enums import check_enums
from oneiros_server.transport.convert.images import decode_image, encode_image


def _image(repo: ModelRepository, image: pb.Image, field: str):
    """Decoded and reduced to ``DIGIT_MAX_SIDE``: the encoder's 28x28 digit is made from it on the
    event loop (engines.latent.images.to_digit), so it must be small by then."""
    s = repo.settings
    limits = {"max_bytes": s.max_image_bytes, "max_pixels": s.max_image_pixels}
    return decode_image(image.data, field, **limits, mode="L", max_side=DIGIT_MAX_SIDE)


DIGIT_MAX_SIDE = 256  # an input image is reduced to this while it is decoded (a digit needs 20 px)


def _check_lengths(request, settings) -> None:
    """Refuse an over-long list before converting it: the conversion grows with the input."""
    limit = settings.max_images_per_request
    for name in ("latents", "strengths"):
        if name in request.DESCRIPTOR.fields_by_name and len(getattr(request, name)) > limit:
            raise FieldError(name, f"has {len(getattr(request, name))} entries; at most {limit}")


def _images(result: LatentResult, fmt: str) -> list[pb.Image]:
    return [pb.Image(data=encode_image(image, fmt)) for image in result.images]


def _vectors(points) -> list[pb.Vector]:
    return [pb.Vector(values=p.tolist()) for p in points]


async def decode(plane: Dataplane, call: Call, request: pb.DecodeRequest) -> pb.DecodeResponse:
    check_enums(request)
    _check_lengths(request, plane.repository.settings)
    fmt = pb.ImageFormat.Name(request.output_format)
    grid = None
    if request.HasField("grid"):
        g = request.grid
        grid = Grid(axis_x=g.axis_x, axis_y=g.axis_y, steps=g.steps, extent=g.extent)
    result = await plane.decode(
        call,
        request.model,
        DecodeRequest(
            latents=[list(v.values) for v in request.latents],
            count=request.count,
            seed=request.seed if request.HasField("seed") else None,
            grid=grid,
        ),
    )
    return pb.DecodeResponse(images=_images(result, fmt), latents=_vectors(result.latents))


async def edit_latent(plane: Dataplane, call: Call, request: pb.EditLatentRequest) -> pb.EditLatentResponse:
    check_enums(request)
    _check_lengths(request, plane.repository.settings)
    fmt = pb.ImageFormat.Name(request.output_format)
    interpolation = pb.Interpolation.Name(request.interpolation)
    engine: LatentEngine = plane.latent_engine(request.model, "EditLatent")
    repo = plane.repository
    source, target = request.WhichOneof("source"), request.WhichOneof("target")
    edit = EditRequest(
        latent=list(request.latent.values) if source == "latent" else None,
        edits=[AttributeEdit(e.attribute, e.strength) for e in request.edits],
        direction=list(request.direction.values) if request.HasField("direction") else None,
        strengths=list(request.strengths),
        sweep_attribute=request.sweep_attribute,
        target_latent=list(request.target_latent.values) if target == "target_latent" else None,
        interpolation_steps=request.interpolation_steps,
        interpolation=interpolation,
    )
    # Images are decoded only for a model that can encode them (a GAN answers FAILED_PRECONDITION),
    # on a worker thread: decoding grows with the image and would stall the event loop.
    if source == "image":
        engine.require_encoder("image")
        edit.image = await plane.offload(_image, repo, request.image, "image")
    if target == "target_image":
        engine.require_encoder("target_image")
        edit.target_image = await plane.offload(_image, repo, request.target_image, "target_image")
    result = await plane.edit_latent(call, engine, edit)
    return pb.EditLatentResponse(
        images=_images(result, fmt),
        latents=_vectors(result.latents),
        source_latent=pb.Vector(values=result.source_latent.tolist()),
    )

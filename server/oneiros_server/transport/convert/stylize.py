"""Stylize and StylizeStream: proto <-> StylizeParams, run as a job in the backbone's pool."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.engines.convnet.stylize_params import StylizeParams, StylizeProgress, StylizeResult
from oneiros_server.errors import FieldError
from oneiros_server.repository import ModelRepository
from oneiros_server.transport.convert.enums import check_enums
from oneiros_server.transport.convert.images import decode_image, encode_image, to_array


def _image(repo: ModelRepository, request: pb.StylizeRequest, field: str):
    if not request.HasField(field) or not getattr(request, field).data:
        raise FieldError(field, f"a {field} image is required (an encoded PNG, JPEG or WebP file)")
    settings = repo.settings
    image = decode_image(  # reduced while decoding to the largest working side
        getattr(request, field).data,
        field,
        max_bytes=settings.max_image_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=settings.job_max_side,
    )
    return to_array(image)


def _optional(request, field: str) -> float | None:
    if not request.HasField(field):
        return None
    value = getattr(request, field)
    if not math.isfinite(value) or value < 0:
        raise FieldError(field, f"must be a finite number >= 0, got {value}")
    return value


def _params(repo: ModelRepository, request: pb.StylizeRequest, preview_every: int) -> StylizeParams:
    return StylizeParams(
        content=_image(repo, request, "content"),
        style=_image(repo, request, "style") if request.style.data else None,  # a style network has its own
        content_weight=_optional(request, "content_weight"),
        style_weight=_optional(request, "style_weight"),
        tv_weight=_optional(request, "tv_weight"),
        style_layers=dict(request.style_layers),
        content_layers=list(request.content_layers),
        steps=request.steps,
        optimizer=pb.Optimizer.Name(request.optimizer),
        learning_rate=request.learning_rate if request.HasField("learning_rate") else None,
        init=pb.StylizeInit.Name(request.init),
        preserve_color=request.preserve_color,
        max_side=request.max_side,
        seed=request.seed if request.HasField("seed") else None,
        output_format=_format(request),
        preview_every=preview_every,
        coarse_to_fine=request.coarse_to_fine,
    )


def _format(request) -> str:
    return pb.ImageFormat.Name(request.output_format)


def _response(result: StylizeResult, fmt: str) -> pb.StylizeResponse:
    return pb.StylizeResponse(
        image=pb.Image(data=encode_image(result.image, fmt)),
        loss_history=result.loss_history,
        content_loss=result.content_loss,
        style_loss=result.style_loss,
        tv_loss=result.tv_loss,
        elapsed_ms=result.elapsed_ms,
    )


def _progress(event: StylizeProgress, fmt: str) -> pb.Progress:
    progress = pb.Progress(
        step=event.step,
        total_steps=event.total_steps,
        loss=event.loss,
        content_loss=event.content_loss,
        style_loss=event.style_loss,
        tv_loss=event.tv_loss,
    )
    if event.preview is not None:
        progress.preview.data = encode_image(event.preview, fmt)
    return progress


def _progress_message(event: StylizeProgress, fmt: str) -> pb.StylizeProgress:
    return pb.StylizeProgress(progress=_progress(event, fmt))


async def stylize(plane: Dataplane, call: Call, request: pb.StylizeRequest) -> pb.StylizeResponse:
    check_enums(request)
    fmt = _format(request)
    result = await plane.stylize(call, request.model, lambda: _params(plane.repository, request, 0))
    return await plane.offload(_response, result, fmt)  # image encoding off the event loop


async def stylize_stream(plane: Dataplane, call: Call, request: pb.StylizeRequest) -> AsyncIterator[pb.StylizeProgress]:
    check_enums(request)
    fmt = _format(request)
    events = plane.stylize_stream(
        call, request.model, lambda: _params(plane.repository, request, request.preview_every)
    )
    async for event in events:
        if not isinstance(event, StylizeProgress):
            yield pb.StylizeProgress(result=await plane.offload(_response, event, fmt))
        elif event.preview is not None:
            yield await plane.offload(_progress_message, event, fmt)
        else:
            yield _progress_message(event, fmt)

"""Dream and DreamStream: proto <-> DreamParams, run as a job in the backbone's pool."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.engines.convnet.dream import DreamParams, DreamProgress, DreamResult
from oneiros_server.errors import FieldError
from oneiros_server.repository import ModelRepository
from oneiros_server.transport.convert.enums import check_enums
from oneiros_server.transport.convert.images import decode_image, encode_image, to_array


def _params(repo: ModelRepository, request: pb.DreamRequest, preview_every: int) -> DreamParams:
    if not request.HasField("image"):
        raise FieldError("image", "an input image is required (an encoded PNG, JPEG or WebP file)")
    settings = repo.settings
    image = decode_image(  # reduced while decoding: no float copy of a huge photo
        request.image.data,
        "image",
        max_bytes=settings.max_image_bytes,
        max_pixels=settings.max_image_pixels,
        max_side=settings.job_max_side,
    )
    return DreamParams(
        image=to_array(image),
        layer_weights=dict(request.layer_weights),
        octaves=request.octaves,
        octave_scale=request.octave_scale,
        steps_per_octave=request.steps_per_octave,
        step_size=request.step_size,
        max_loss=request.max_loss if request.HasField("max_loss") else None,
        jitter=request.jitter if request.HasField("jitter") else None,
        seed=request.seed if request.HasField("seed") else None,
        max_side=request.max_side,
        preview_every=preview_every,
    )


def _format(request) -> str:
    return pb.ImageFormat.Name(request.output_format)


def _response(result: DreamResult, fmt: str) -> pb.DreamResponse:
    return pb.DreamResponse(
        image=pb.Image(data=encode_image(np.asarray(result.image), fmt)),
        loss_history=result.loss_history,
        elapsed_ms=result.elapsed_ms,
    )


def _progress(event: DreamProgress, fmt: str) -> pb.Progress:
    progress = pb.Progress(step=event.step, total_steps=event.total_steps, octave=event.octave, loss=event.loss)
    if event.preview is not None:
        progress.preview.data = encode_image(event.preview, fmt)
    return progress


def _progress_message(event: DreamProgress, fmt: str) -> pb.DreamProgress:
    return pb.DreamProgress(progress=_progress(event, fmt))


async def dream(plane: Dataplane, call: Call, request: pb.DreamRequest) -> pb.DreamResponse:
    check_enums(request)
    fmt = _format(request)
    result = await plane.dream(call, request.model, lambda: _params(plane.repository, request, 0))
    return await plane.offload(_response, result, fmt)  # image encoding off the event loop


async def dream_stream(plane: Dataplane, call: Call, request: pb.DreamRequest) -> AsyncIterator[pb.DreamProgress]:
    check_enums(request)
    fmt = _format(request)
    events = plane.dream_stream(call, request.model, lambda: _params(plane.repository, request, request.preview_every))
    async for event in events:
        if not isinstance(event, DreamProgress):
            yield pb.DreamProgress(result=await plane.offload(_response, event, fmt))
        elif event.preview is not None:
            yield await plane.offload(_progress_message, event, fmt)
        else:
            yield _progress_message(event, fmt)

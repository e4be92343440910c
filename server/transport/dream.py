"""Dream and DreamStream: proto <-> DreamParams, run as a job in the backbone's pool."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.control import CallControl
from oneiros_server.engines.dream import DreamParams, DreamProgress, DreamResult
from oneiros_server.errors import FieldError
from oneiros_server.imaging import decode_image, encode_image, to_array
from oneiros_server.jobs import Job
from oneiros_server.repository import ModelRepository
from oneiros_server.transport import job_calls
from oneiros_server.transport.enums import check_enums


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


def _submit(repo: ModelRepository, request: pb.DreamRequest, control: CallControl, preview_every: int) -> Job:
    check_enums(request)
    engine = repo.resolve(request.model, "Dream")
    engine.check_room()  # refuse at once when busy, before the image is decoded
    return engine.submit_dream(_params(repo, request, preview_every), control)


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


def dream(repo: ModelRepository, request: pb.DreamRequest, control: CallControl) -> pb.DreamResponse:
    job = _submit(repo, request, control, preview_every=0)
    return _response(job_calls.result_of(job, "Dream", DreamProgress), _format(request))


def dream_stream(repo: ModelRepository, request: pb.DreamRequest, control: CallControl) -> Iterator[pb.DreamProgress]:
    job = _submit(repo, request, control, preview_every=request.preview_every)
    fmt = _format(request)
    yield from job_calls.stream_of(
        job,
        "DreamStream",
        DreamProgress,
        control,
        lambda event: pb.DreamProgress(progress=_progress(event, fmt)),
        lambda result: pb.DreamProgress(result=_response(result, fmt)),
    )

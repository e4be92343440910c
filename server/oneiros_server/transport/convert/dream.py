"""Dream and DreamStream: proto <-> DreamParams and the job's events."""

from __future__ import annotations

import numpy as np

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.convnet.dream import DreamParams, DreamProgress, DreamResult
from oneiros_server.errors import FieldError
from oneiros_server.settings import Settings
from oneiros_server.transport.convert.images import decode_job_image, encode_image


def _image(request: pb.DreamRequest, settings: Settings) -> np.ndarray:
    if not request.HasField("image"):
        raise FieldError("image", "an input image is required (an encoded PNG, JPEG or WebP file)")
    return decode_job_image(request.image.data, "image", settings)


def _params(request: pb.DreamRequest, settings: Settings, preview_every: int) -> DreamParams:
    """The image goes as its decoder: the engine refuses a full pool before decoding it."""
    return DreamParams(
        image=lambda: _image(request, settings),
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


def dream_request(request: pb.DreamRequest, settings: Settings) -> DreamParams:
    """Dream: no previews."""
    return _params(request, settings, 0)


def stream_request(request: pb.DreamRequest, settings: Settings) -> DreamParams:
    return _params(request, settings, request.preview_every)


def dream_response(result: DreamResult, request: pb.DreamRequest) -> pb.DreamResponse:
    return pb.DreamResponse(
        image=pb.Image(data=encode_image(np.asarray(result.image), pb.ImageFormat.Name(request.output_format))),
        loss_history=result.loss_history,
        elapsed_ms=result.elapsed_ms,
    )


def stream_message(event: DreamProgress | DreamResult, request: pb.DreamRequest) -> pb.DreamProgress:
    """A progress event (with its preview) or, last, the result."""
    if isinstance(event, DreamResult):
        return pb.DreamProgress(result=dream_response(event, request))
    progress = pb.Progress(step=event.step, total_steps=event.total_steps, octave=event.octave, loss=event.loss)
    if event.preview is not None:
        progress.preview.data = encode_image(event.preview, pb.ImageFormat.Name(request.output_format))
    return pb.DreamProgress(progress=progress)

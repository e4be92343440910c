"""Stylize and StylizeStream: proto <-> StylizeParams and the job's events."""

from __future__ import annotations

import numpy as np

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.convnet.stylize_params import StylizeParams, StylizeProgress, StylizeResult
from oneiros_server.errors import FieldError
from oneiros_server.settings import Settings
from oneiros_server.transport.convert.images import decode_job_image, encode_image


def _image(settings: Settings, request: pb.StylizeRequest, field: str) -> np.ndarray:
    if not request.HasField(field) or not getattr(request, field).data:
        raise FieldError(field, f"a {field} image is required (an encoded PNG, JPEG or WebP file)")
    return decode_job_image(getattr(request, field).data, field, settings)


def _optional(request, field: str) -> float | None:
    return getattr(request, field) if request.HasField(field) else None


def _params(request: pb.StylizeRequest, settings: Settings, preview_every: int) -> StylizeParams:
    """The images go as their decoders: the engine refuses a full pool before decoding them."""
    return StylizeParams(
        content=lambda: _image(settings, request, "content"),
        style=(lambda: _image(settings, request, "style")) if request.style.data else None,  # a style network: none
        content_weight=_optional(request, "content_weight"),
        style_weight=_optional(request, "style_weight"),
        tv_weight=_optional(request, "tv_weight"),
        style_layers=dict(request.style_layers),
        content_layers=list(request.content_layers),
        steps=request.steps,
        optimizer=pb.Optimizer.Name(request.optimizer),
        learning_rate=_optional(request, "learning_rate"),
        init=pb.StylizeInit.Name(request.init),
        preserve_color=request.preserve_color,
        max_side=request.max_side,
        seed=request.seed if request.HasField("seed") else None,
        output_format=pb.ImageFormat.Name(request.output_format),
        preview_every=preview_every,
        coarse_to_fine=request.coarse_to_fine,
    )


def stylize_request(request: pb.StylizeRequest, settings: Settings) -> StylizeParams:
    """Stylize: no previews."""
    return _params(request, settings, 0)


def stream_request(request: pb.StylizeRequest, settings: Settings) -> StylizeParams:
    return _params(request, settings, request.preview_every)


def stylize_response(result: StylizeResult, request: pb.StylizeRequest) -> pb.StylizeResponse:
    return pb.StylizeResponse(
        image=pb.Image(data=encode_image(result.image, pb.ImageFormat.Name(request.output_format))),
        loss_history=result.loss_history,
        content_loss=result.content_loss,
        style_loss=result.style_loss,
        tv_loss=result.tv_loss,
        elapsed_ms=result.elapsed_ms,
    )


def stream_message(event: StylizeProgress | StylizeResult, request: pb.StylizeRequest) -> pb.StylizeProgress:
    """A progress event (with its preview) or, last, the result."""
    if isinstance(event, StylizeResult):
        return pb.StylizeProgress(result=stylize_response(event, request))
    progress = pb.Progress(
        step=event.step,
        total_steps=event.total_steps,
        loss=event.loss,
        content_loss=event.content_loss,
        style_loss=event.style_loss,
        tv_loss=event.tv_loss,
    )
    if event.preview is not None:
        progress.preview.data = encode_image(event.preview, pb.ImageFormat.Name(request.output_format))
    return pb.StylizeProgress(progress=progress)

"""Response messages as the SDK's numpy/PIL dataclasses (shared by Client and AsyncClient)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from google.protobuf import json_format

from oneiros.v1 import oneiros_pb2 as pb

from . import images
from .types import (
    Completion,
    DecodeResult,
    DreamResult,
    EditResult,
    ModelInfo,
    Progress,
    SampleChunk,
    StylizeResult,
)

R = TypeVar("R")

_HEALTH_STATUS = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


def latents_from_proto(vectors: Sequence[pb.Vector]) -> np.ndarray:
    """``Vector`` messages as a float32 (N, D) array ((0, 0) when empty)."""
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray([list(v.values) for v in vectors], dtype=np.float32)


def model_info(m: pb.ModelInfo) -> ModelInfo:
    return ModelInfo(
        name=m.name,
        version=m.version,
        kind=pb.ModelKind.Name(m.kind),
        runtime=m.runtime,
        device=m.device,
        status=pb.ModelStatus.Name(m.status),
        status_reason=m.status_reason,
        description=m.description,
        default_for=tuple(m.default_for),
        vocabulary_size=m.vocabulary_size,
        vocabulary=m.vocabulary,
        latent_size=m.latent_size,
        image_shape=tuple(m.image_shape),
        attributes=tuple(m.attributes),
        layers=tuple(m.layers),
        precision=m.precision,
        default_parameters=json_format.MessageToDict(m.default_parameters),
        metrics=dict(m.metrics),
        training=json_format.MessageToDict(m.training),
        architecture=json_format.MessageToDict(m.architecture),
    )


def model_list(r: pb.ListModelsResponse) -> list[ModelInfo]:
    return [model_info(m) for m in r.models]


def completions(r: pb.SampleResponse) -> list[Completion]:
    return sorted((completion(c, r.model_version) for c in r.completions), key=lambda c: c.index)


def completion(c: pb.Completion, model_version: str = "") -> Completion:
    return Completion(
        text=c.text,
        finish_reason=pb.FinishReason.Name(c.finish_reason),
        token_count=c.token_count,
        mean_entropy_bits=c.mean_entropy_bits,
        index=c.index,
        model_version=model_version,
    )


def sample_chunk(c: pb.SampleChunk) -> SampleChunk:
    reason = None if c.finish_reason == pb.FINISH_REASON_UNSPECIFIED else pb.FinishReason.Name(c.finish_reason)
    return SampleChunk(
        index=c.index,
        text=c.text,
        finish_reason=reason,
        token_count=c.token_count,
        mean_entropy_bits=c.mean_entropy_bits,
        model_version=c.model_version,
    )


def dream_result(r: pb.DreamResponse) -> DreamResult:
    return DreamResult(images.from_proto(r.image), list(r.loss_history), r.elapsed_ms, r.model_version)


def progress(p: pb.Progress, model_version: str = "") -> Progress:
    return Progress(
        step=p.step,
        total_steps=p.total_steps,
        loss=p.loss,
        octave=p.octave,
        preview=images.from_proto(p.preview) if p.HasField("preview") else None,
        content_loss=p.content_loss,
        style_loss=p.style_loss,
        tv_loss=p.tv_loss,
        model_version=model_version,
    )


def _job_event(e: pb.DreamProgress | pb.StylizeProgress, result: Callable[[Any], R]) -> Progress | R | None:
    """A job stream's event: a step's progress, or the result (None for an event this SDK does not know)."""
    which = e.WhichOneof("event")
    if which == "progress":
        return progress(e.progress, e.model_version)
    if which == "result":
        return result(e.result)
    return None


def dream_event(e: pb.DreamProgress) -> Progress | DreamResult | None:
    return _job_event(e, dream_result)


def stylize_result(r: pb.StylizeResponse) -> StylizeResult:
    return StylizeResult(
        image=images.from_proto(r.image),
        loss_history=list(r.loss_history),
        content_loss=r.content_loss,
        style_loss=r.style_loss,
        tv_loss=r.tv_loss,
        elapsed_ms=r.elapsed_ms,
        model_version=r.model_version,
    )


def stylize_event(e: pb.StylizeProgress) -> Progress | StylizeResult | None:
    return _job_event(e, stylize_result)


def decode_result(r: pb.DecodeResponse) -> DecodeResult:
    return DecodeResult([images.from_proto(i) for i in r.images], latents_from_proto(r.latents), r.model_version)


def edit_result(r: pb.EditLatentResponse) -> EditResult:
    return EditResult(
        images=[images.from_proto(i) for i in r.images],
        latents=latents_from_proto(r.latents),
        source_latent=np.asarray(list(r.source_latent.values), dtype=np.float32),
        model_version=r.model_version,
    )


def health_status(data: bytes) -> str:
    """The ``status`` name of a ``HealthCheckResponse`` (field 1, varint)."""
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag == 0x08:
            value, shift = 0, 0
            while True:
                b = data[i]
                i += 1
                value |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    return _HEALTH_STATUS.get(value, "UNKNOWN")
        break  # no other fields are defined
    return "UNKNOWN"

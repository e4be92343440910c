"""The RPC table: one entry per Oneiros RPC family, read by both transports.

The gRPC servicer gets one method per entry (and its streaming twin); the HTTP app one
route per entry (``path``, plus ``path/stream``). Each entry's handlers come from its
family's converters (``transport.convert``) through ``transport.handlers``, so a new RPC
family is a converter module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.transport.convert import dream, latent, models, sample, stylize
from oneiros_server.transport.convert.images import has_image
from oneiros_server.transport.handlers import (
    StreamHandler,
    UnaryHandler,
    engine_stream,
    engine_unary,
    repository_unary,
)


@dataclass(frozen=True)
class Rpc:
    """One RPC (and its streaming twin, if any): its messages, its handlers, its HTTP route."""

    rpc: str
    method: str  # HTTP
    path: str  # HTTP
    request: type[Message]
    response: type[Message]
    handler: UnaryHandler
    summary: str
    model: Callable[[Message], str] = lambda m: m.model  # type: ignore[attr-defined]
    stream_rpc: str = ""
    stream_handler: StreamHandler | None = None
    stream_message: type[Message] | None = None
    images: Callable[[Message], list] | None = None  # the response's images, for Accept: image/*
    image_fields: tuple[str, ...] = ()  # request fields that may be multipart file uploads


def _one(response) -> list:
    return [response.image]


def _many(response) -> list:
    return list(response.images)


RPCS: tuple[Rpc, ...] = (
    Rpc(
        "ListModels",
        "GET",
        "/v1/models",
        pb.ListModelsRequest,
        pb.ListModelsResponse,
        repository_unary(models.list_models),
        "The models in the repository (?kind=VAE filters by kind); also OpenAI's model list",
        model=lambda m: "",
    ),
    Rpc(
        "GetModel",
        "GET",
        "/v1/models/{name}",
        pb.GetModelRequest,
        pb.ModelInfo,
        repository_unary(models.get_model),
        "One model: kind, runtime, device, status and its metadata (?version= picks a version)",
        model=lambda m: m.name,  # type: ignore[attr-defined]
    ),
    Rpc(
        "Sample",
        "POST",
        "/v1/sample",
        pb.SampleRequest,
        pb.SampleResponse,
        engine_unary("Sample", sample.sample_request, sample.sample_response),
        "Text from a language model, from a prompt",
        stream_rpc="SampleStream",
        stream_handler=engine_stream("Sample", sample.stream_request, sample.chunk_message),
        stream_message=pb.SampleChunk,
    ),
    Rpc(
        "Dream",
        "POST",
        "/v1/dream",
        pb.DreamRequest,
        pb.DreamResponse,
        engine_unary("Dream", dream.dream_request, dream.dream_response, heavy_request=True, heavy_response=True),
        "DeepDream of an image",
        stream_rpc="DreamStream",
        stream_handler=engine_stream(
            "Dream", dream.stream_request, dream.stream_message, heavy_request=True, heavy=has_image
        ),
        stream_message=pb.DreamProgress,
        images=_one,
        image_fields=("image",),
    ),
    Rpc(
        "Stylize",
        "POST",
        "/v1/stylize",
        pb.StylizeRequest,
        pb.StylizeResponse,
        engine_unary(
            "Stylize", stylize.stylize_request, stylize.stylize_response, heavy_request=True, heavy_response=True
        ),
        "Gatys style transfer of a content image in the style of a reference image",
        stream_rpc="StylizeStream",
        stream_handler=engine_stream(
            "Stylize", stylize.stream_request, stylize.stream_message, heavy_request=True, heavy=has_image
        ),
        stream_message=pb.StylizeProgress,
        images=_one,
        image_fields=("content", "style"),
    ),
    Rpc(
        "Decode",
        "POST",
        "/v1/decode",
        pb.DecodeRequest,
        pb.DecodeResponse,
        engine_unary("Decode", latent.decode_request, latent.decode_response),
        "Latent points to images; or N samples from the prior; or a grid over two latent axes",
        images=_many,
    ),
    Rpc(
        "EditLatent",
        "POST",
        "/v1/edit-latent",
        pb.EditLatentRequest,
        pb.EditLatentResponse,
        engine_unary("EditLatent", latent.edit_request, latent.edit_response, heavy_request=latent.has_image),
        "Image or latent -> move along attribute vectors, sweep a direction, interpolate -> images",
        images=_many,
        image_fields=("image", "target_image"),
    ),
)

BY_NAME: dict[str, Rpc] = {rpc.rpc: rpc for rpc in RPCS}

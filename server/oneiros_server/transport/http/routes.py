"""The route table: one entry per Oneiros RPC, pointing at the same family handlers as gRPC.

The handlers (``oneiros_server.transport.<family>``) convert proto messages to engine types and
call the dataplane; they know nothing of grpc, so both transports share them and the HTTP
side only turns JSON (or a form) into the request message and the response into JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.transport.convert import dream, latent, models, sample, stylize
from oneiros_server.transport.http.openai_schema import MODEL_LIST_PROPERTIES, openai_model_list


@dataclass(frozen=True)
class Route:
    """How one RPC (and its streaming twin, if any) is reached over HTTP."""

    rpc: str
    method: str
    path: str
    request: type[Message]
    response: type[Message]
    handler: Callable
    summary: str
    model: Callable[[Message], str] = lambda m: m.model  # type: ignore[attr-defined]
    stream_rpc: str = ""
    stream_handler: Callable | None = None
    stream_message: type[Message] | None = None
    images: Callable[[Message], list] | None = None  # the response's images, for Accept: image/*
    image_fields: tuple[str, ...] = ()  # request fields that may be multipart file uploads
    json_extra: Callable[[dict], dict] | None = None  # adds to the JSON answer (OpenAI's shapes)
    extra_properties: dict | None = None  # and their OpenAPI schema


def _one(response) -> list:
    return [response.image]


def _many(response) -> list:
    return list(response.images)


ROUTES: tuple[Route, ...] = (
    Route(
        "ListModels",
        "GET",
        "/v1/models",
        pb.ListModelsRequest,
        pb.ListModelsResponse,
        models.list_models,
        "The models in the repository (?kind=VAE filters by kind); also OpenAI's model list",
        model=lambda m: "",
        json_extra=openai_model_list,
        extra_properties=MODEL_LIST_PROPERTIES,
    ),
    Route(
        "GetModel",
        "GET",
        "/v1/models/{name}",
        pb.GetModelRequest,
        pb.ModelInfo,
        models.get_model,
        "One model: kind, runtime, device, status and its metadata (?version= picks a version)",
        model=lambda m: m.name,  # type: ignore[attr-defined]
    ),
    Route(
        "Sample",
        "POST",
        "/v1/sample",
        pb.SampleRequest,
        pb.SampleResponse,
        sample.sample,
        "Text from a language model, from a prompt",
        stream_rpc="SampleStream",
        stream_handler=sample.sample_stream,
        stream_message=pb.SampleChunk,
    ),
    Route(
        "Dream",
        "POST",
        "/v1/dream",
        pb.DreamRequest,
        pb.DreamResponse,
        dream.dream,
        "DeepDream of an image",
        stream_rpc="DreamStream",
        stream_handler=dream.dream_stream,
        stream_message=pb.DreamProgress,
        images=_one,
        image_fields=("image",),
    ),
    Route(
        "Stylize",
        "POST",
        "/v1/stylize",
        pb.StylizeRequest,
        pb.StylizeResponse,
        stylize.stylize,
        "Gatys style transfer of a content image in the style of a reference image",
        stream_rpc="StylizeStream",
        stream_handler=stylize.stylize_stream,
        stream_message=pb.StylizeProgress,
        images=_one,
        image_fields=("content", "style"),
    ),
    Route(
        "Decode",
        "POST",
        "/v1/decode",
        pb.DecodeRequest,
        pb.DecodeResponse,
        latent.decode,
        "Latent points to images; or N samples from the prior; or a grid over two latent axes",
        images=_many,
    ),
    Route(
        "EditLatent",
        "POST",
        "/v1/edit-latent",
        pb.EditLatentRequest,
        pb.EditLatentResponse,
        latent.edit_latent,
        "Image or latent -> move along attribute vectors, sweep a direction, interpolate -> images",
        images=_many,
        image_fields=("image", "target_image"),
    ),
)

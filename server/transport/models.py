"""ListModels and GetModel: the repository as ModelInfo messages."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.control import CallControl
from oneiros_server.errors import FieldError
from oneiros_server.repository import LoadedModel, ModelRepository
from oneiros_server.transport.enums import check_enums


def _struct(data: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(data, struct)
    return struct


def model_info(model: LoadedModel) -> pb.ModelInfo:
    info = pb.ModelInfo(
        name=model.name,
        version=model.version,
        status=pb.READY if model.ready else pb.UNAVAILABLE,
        status_reason=model.reason,
    )
    manifest = model.manifest
    if manifest is None:
        return info
    info.kind = pb.ModelKind.Value(manifest.kind)
    info.runtime = manifest.runtime
    info.description = manifest.description
    info.default_for.extend(manifest.default_for)
    info.default_parameters.CopyFrom(_struct(manifest.parameters))
    info.training.CopyFrom(_struct(manifest.training))
    info.metrics.update(manifest.metrics)
    if model.engine is not None:
        meta = model.engine.info
        info.device = meta.device
        info.precision = meta.precision
        info.vocabulary = meta.vocabulary
        info.vocabulary_size = len(meta.vocabulary)
        info.latent_size = meta.latent_size
        info.image_shape.extend(meta.image_shape)
        info.attributes.extend(meta.attributes)
        info.layers.extend(meta.layers)
    return info


def list_models(repo: ModelRepository, request: pb.ListModelsRequest, control: CallControl) -> pb.ListModelsResponse:
    check_enums(request)
    models = [
        m
        for m in repo.models
        if not request.kind or (m.manifest is not None and pb.ModelKind.Value(m.manifest.kind) == request.kind)
    ]
    return pb.ListModelsResponse(models=[model_info(m) for m in models])


def get_model(repo: ModelRepository, request: pb.GetModelRequest, control: CallControl) -> pb.ModelInfo:
    check_enums(request)
    if not request.name:
        names = sorted({m.name for m in repo.models})
        raise FieldError("name", f"a model name is required; the repository has {names}")
    return model_info(repo.find(request.name, request.version))

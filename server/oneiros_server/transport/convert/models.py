"""ListModels and GetModel: the repository as ModelInfo messages."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Dataplane
from oneiros_server.repository import ModelVersion


def _struct(data: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(data, struct)
    return struct


def model_info(model: ModelVersion) -> pb.ModelInfo:
    info = pb.ModelInfo(
        name=model.name,
        version=model.version,
        status=pb.ModelStatus.Value(model.state),
        status_reason=model.reason,
    )
    manifest = model.manifest
    if manifest is None:
        return info
    info.kind = wire_kind(manifest.kind)
    info.runtime = manifest.runtime
    info.description = manifest.description
    info.default_for.extend(manifest.default_for)
    info.default_parameters.CopyFrom(_struct(manifest.parameters))
    info.training.CopyFrom(_struct(manifest.training))
    info.metrics.update(manifest.metrics)
    architecture = manifest.spec.get("architecture")
    if isinstance(architecture, dict):
        info.architecture.CopyFrom(_struct(architecture))
    if model.engine_set is not None:
        meta = model.engine_set.info
        info.device = meta.device
        info.precision = meta.precision
        info.vocabulary = meta.vocabulary
        info.vocabulary_size = len(meta.vocabulary)
        info.latent_size = meta.latent_size
        info.image_shape.extend(meta.image_shape)
        info.attributes.extend(meta.attributes)
        info.layers.extend(meta.layers)
    return info


def wire_kind(kind: str) -> int:
    """A manifest's kind on the wire: its ``ModelKind`` value, or MODEL_KIND_UNSPECIFIED for a
    kind the proto does not name (one a deployment registered)."""
    return pb.ModelKind.Value(kind) if kind in pb.ModelKind.keys() else pb.MODEL_KIND_UNSPECIFIED


def list_models(plane: Dataplane, request: pb.ListModelsRequest) -> pb.ListModelsResponse:
    kind = pb.ModelKind.Name(request.kind) if request.kind else ""
    return pb.ListModelsResponse(models=[model_info(m) for m in plane.list_models(kind)])


def get_model(plane: Dataplane, request: pb.GetModelRequest) -> pb.ModelInfo:
    return model_info(plane.get_model(request.name, request.version))

"""``oneiros.v1.ModelRepository`` on grpc.aio: operators load, unload and list models with an admin token."""

from __future__ import annotations

import grpc

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc
from oneiros_server.dataplane.admin import RepositoryAdmin
from oneiros_server.errors import FieldError
from oneiros_server.repository import ModelVersion
from oneiros_server.transport.grpc.status import to_status
from oneiros_server.transport.policy import MISSING_TOKEN, Tokens

SERVICE_PREFIX = "/oneiros.v1.ModelRepository/"


def admin_refusal(tokens: Tokens, authorization: str) -> tuple[str, str] | None:
    """None when ``authorization`` carries an admin token; else (status name, message)."""
    problem = tokens.problem(authorization)
    if problem == MISSING_TOKEN:
        return "UNAUTHENTICATED", "missing admin token: send 'authorization: Bearer <admin token>'"
    if problem is not None:
        return "PERMISSION_DENIED", "this token may not change the model repository"
    return None


def entry(model: ModelVersion) -> pb.RepositoryEntry:
    kind = model.manifest.kind if model.manifest is not None else ""
    return pb.RepositoryEntry(
        name=model.name,
        version=model.version,
        kind=pb.ModelKind.Value(kind) if kind in pb.ModelKind.keys() else pb.MODEL_KIND_UNSPECIFIED,
        status=pb.ModelStatus.Value(model.state),
        reason=model.reason,
    )


class ModelRepositoryServicer(oneiros_pb2_grpc.ModelRepositoryServicer):
    def __init__(self, admin: RepositoryAdmin, tokens: Tokens):
        self.admin = admin
        self.tokens = tokens

    async def _run(self, context: grpc.aio.ServicerContext, work) -> pb.RepositoryIndexResponse:
        header = dict(context.invocation_metadata() or ()).get("authorization", "")
        refused = admin_refusal(self.tokens, header if isinstance(header, str) else header.decode(errors="replace"))
        if refused is not None:
            await context.abort(grpc.StatusCode[refused[0]], refused[1])
        try:
            models = await work()
        except Exception as exc:  # domain errors map to their status; bugs to INTERNAL
            status = to_status(exc)
            await context.abort(status.code, status.details, tuple(status.trailing_metadata))
        return pb.RepositoryIndexResponse(models=[entry(m) for m in models])

    async def LoadModel(self, request, context):
        return await self._run(context, lambda: self.admin.load(_named(request.name), request.version))

    async def UnloadModel(self, request, context):
        return await self._run(context, lambda: self.admin.unload(_named(request.name), request.version))

    async def RepositoryIndex(self, request, context):
        return await self._run(context, self.admin.index)


def _named(name: str) -> str:
    if not name:
        raise FieldError("name", "a model name is required")
    return name

"""The ``ModelRepository`` service over HTTP: ``POST /v1/repository/models/{name}/load`` (and ``/unload``),
``GET /v1/repository/index``; mounted only when the server has admin tokens."""

from __future__ import annotations

import json

from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane.admin import RepositoryAdmin
from oneiros_server.transport.grpc.repository import admin_refusal, entry
from oneiros_server.transport.http.calls import error_response, http_request_id
from oneiros_server.transport.http.errors import HttpError
from oneiros_server.transport.policy import Tokens

PREFIX = "/v1/repository"
_HTTP = {"UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403}


def routes(admin: RepositoryAdmin, tokens: Tokens) -> list[Route]:
    async def answer(request: Request, work) -> JSONResponse:
        rid = http_request_id(request)
        refused = admin_refusal(tokens, request.headers.get("authorization", ""))
        try:
            if refused is not None:
                raise HttpError(_HTTP[refused[0]], refused[0], refused[1])
            models = await work()
        except Exception as exc:  # mapped by the one error table; bugs are a generic 500
            return error_response(exc, rid)
        body = json_format.MessageToDict(pb.RepositoryIndexResponse(models=[entry(m) for m in models]))
        return JSONResponse(body, headers={"x-request-id": rid})

    async def version_of(request: Request) -> str:
        body = await request.body()
        if not body:
            return request.query_params.get("version", "")
        try:
            version = json.loads(body).get("version", "")
        except (ValueError, AttributeError):
            raise HttpError(400, "INVALID_ARGUMENT", 'body: expected a JSON object such as {"version": "2"}') from None
        if not isinstance(version, str):
            raise HttpError(400, "INVALID_ARGUMENT", "version: must be a string")
        return version

    async def load(request: Request) -> JSONResponse:
        async def work():
            return await admin.load(request.path_params["name"], await version_of(request))

        return await answer(request, work)

    async def unload(request: Request) -> JSONResponse:
        async def work():
            return await admin.unload(request.path_params["name"], await version_of(request))

        return await answer(request, work)

    async def index(request: Request) -> JSONResponse:
        return await answer(request, admin.index)

    return [
        Route(f"{PREFIX}/models/{{name}}/load", load, methods=["POST"]),
        Route(f"{PREFIX}/models/{{name}}/unload", unload, methods=["POST"]),
        Route(f"{PREFIX}/index", index, methods=["GET"]),
    ]

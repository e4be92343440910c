"""The Starlette app of the HTTP transport: a route per entry of ``transport.rpcs.RPCS``, /v1/completions,
/openapi.json, /healthz and the browser playground at /, over one dataplane."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from oneiros_server.dataplane import Dataplane
from oneiros_server.errors import short
from oneiros_server.settings import Settings
from oneiros_server.transport.http import openapi, page, repository
from oneiros_server.transport.http.bodies import Bodies
from oneiros_server.transport.http.calls import HttpCalls, error_response, http_request_id
from oneiros_server.transport.http.errors import HttpError
from oneiros_server.transport.http.native import NativeEndpoints
from oneiros_server.transport.http.openai import Completions
from oneiros_server.transport.http.openai_schema import COMPLETIONS_PATH
from oneiros_server.transport.http.origins import CrossSiteGuard, is_loopback
from oneiros_server.transport.policy import Tokens
from oneiros_server.transport.rpcs import RPCS


def build_app(
    plane: Dataplane, tokens: Tokens, settings: Settings, version: str = "", admin_tokens: Tokens | None = None
) -> Starlette:
    """The ASGI app; ``tokens`` are the accepted bearer tokens (none = no auth); the settings give
    the limits and ``http_cors_origins``, the browser origins that may call it (``*`` = any);
    ``admin_tokens`` the operators' tokens (none = no ``/v1/repository`` routes)."""
    calls = HttpCalls(plane, tokens, settings.max_message_bytes)
    bodies = Bodies(settings)
    native = NativeEndpoints(calls, bodies)
    routes = []
    for route in RPCS:
        routes.append(StarletteRoute(route.path, native.endpoint(route), methods=[route.method]))
        if route.stream_handler is not None:
            routes.append(StarletteRoute(f"{route.path}/stream", native.endpoint(route, stream=True), methods=["POST"]))
    routes.append(StarletteRoute(COMPLETIONS_PATH, Completions(calls, bodies).handle, methods=["POST"]))
    if admin_tokens is not None and admin_tokens.enabled:
        routes.extend(repository.routes(plane.admin, admin_tokens))
    document = openapi.document(version)

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(document)

    async def healthz(request: Request) -> JSONResponse:
        state = plane.state
        serving = state.loaded.is_set() and not state.draining.is_set()
        status = "SERVING" if serving else "NOT_SERVING"
        return JSONResponse({"status": status}, status_code=200 if serving else 503)

    routes.append(StarletteRoute("/openapi.json", openapi_json, methods=["GET"]))
    routes.append(StarletteRoute("/healthz", healthz, methods=["GET"]))
    routes += page.routes()

    async def http_exception(request: Request, exc: Exception) -> JSONResponse:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        name = {404: "NOT_FOUND", 405: "INVALID_ARGUMENT"}.get(code, "INTERNAL")
        message = {
            404: f"no route {short(request.url.path)}; see /openapi.json",
            405: f"{request.method} is not allowed here",
        }
        return error_response(HttpError(code, name, message.get(code, "error")), http_request_id(request))

    async def bug(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc, http_request_id(request))  # a generic 500; the traceback goes to the log

    origins = [o.strip() for o in settings.http_cors_origins.split(",") if o.strip()]
    middleware = []
    if origins:
        expose = ["x-request-id", "retry-after"]
        cors = dict(allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["*"], expose_headers=expose)
        middleware.append(Middleware(CORSMiddleware, **cors))
    loopback_only = is_loopback(settings.host)
    middleware.append(Middleware(CrossSiteGuard, allowed_origins=origins, loopback_only=loopback_only))
    handlers = {HTTPException: http_exception, Exception: bug}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.router.redirect_slashes = False  # its redirect would name the client's Host: a 404 instead
    app.state.close = bodies.close  # HttpServer.stop calls it
    return app

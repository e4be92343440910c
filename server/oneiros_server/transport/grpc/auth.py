"""Bearer-token check on every RPC except health: UNAUTHENTICATED without a known token."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

import grpc

# Health is open; the ModelRepository service checks operators' admin tokens itself.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/oneiros.v1.ModelRepository/")


def load_tokens(inline: str, path: Path | None) -> list[str]:
    """Tokens from ``inline`` (comma-separated) and from a file (one per line, # comments)."""
    tokens = [t.strip() for t in inline.split(",") if t.strip()]
    if path is not None:
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                tokens.append(line)
    return tokens


_HANDLER_FACTORIES = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def _denying(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same shape as ``handler`` that answers UNAUTHENTICATED."""

    async def abort(_request, context):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    factory = _HANDLER_FACTORIES[(handler.request_streaming, handler.response_streaming)]
    return factory(
        abort, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


class BearerTokenInterceptor(grpc.aio.ServerInterceptor):
    """Runs on the event loop before every call's handler is chosen."""

    def __init__(self, tokens: Iterable[str]):
        self._tokens = [t.encode() for t in tokens]

    def _known(self, token: str) -> bool:
        candidate = token.encode()
        # Compare against every token so timing does not reveal which one matched.
        return any([hmac.compare_digest(candidate, t) for t in self._tokens])

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(EXEMPT_PREFIXES):
            return handler
        header = ""
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                header = value if isinstance(value, str) else value.decode(errors="replace")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _denying(handler, "missing bearer token: send metadata 'authorization: Bearer <token>'")
        if not self._known(token.strip()):
            return _denying(handler, "the bearer token is not valid")
        return handler

"""Bearer-token check on every RPC except health: UNAUTHENTICATED without a known token
(the tokens and the check are ``transport.policy``'s)."""

from __future__ import annotations

import grpc

from oneiros_server.transport.policy import MISSING_TOKEN, Tokens

# Health is open; the ModelRepository service checks operators' admin tokens itself.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/oneiros.v1.ModelRepository/")
HINT = ": send metadata 'authorization: Bearer <token>'"

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

    def __init__(self, tokens: Tokens):
        self._tokens = tokens

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(EXEMPT_PREFIXES):
            return handler
        header = ""
        for key, value in handler_call_details.invocation_metadata or ():
            if key == "authorization":
                header = value if isinstance(value, str) else value.decode(errors="replace")
        problem = self._tokens.problem(header)
        if problem is not None:
            return _denying(handler, problem + HINT if problem == MISSING_TOKEN else problem)
        return handler

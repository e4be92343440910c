"""The floor: a bare grpc.aio server that answers with prebuilt responses, no model, no plumbing.

    python -m bench.floor PORT DECODE_RESPONSE_FILE

``/oneiros.v1.Oneiros/Decode`` answers every request with the same serialized
DecodeResponse; ``/oneiros.v1.Oneiros/SampleStream`` parses the request for
``max_tokens`` and sends that many prebuilt one-character chunks. It prints
"ready" once serving.
"""

from __future__ import annotations

import asyncio
import sys

import grpc

from oneiros.v1 import oneiros_pb2 as pb


def _identity(b: bytes) -> bytes:
    return b


async def serve(port: int, decode_response: bytes) -> None:
    chunk = pb.SampleChunk(index=0, text="a").SerializeToString()
    last = pb.SampleChunk(index=0, text="a", finish_reason=pb.LENGTH).SerializeToString()

    async def decode(request: bytes, context) -> bytes:
        return decode_response

    async def sample_stream(request: bytes, context):
        tokens = pb.SampleRequest.FromString(request).max_tokens or 200
        for _ in range(tokens - 1):
            yield chunk
        yield last

    handlers = {
        "Decode": grpc.unary_unary_rpc_method_handler(
            decode, request_deserializer=_identity, response_serializer=_identity
        ),
        "SampleStream": grpc.unary_stream_rpc_method_handler(
            sample_stream, request_deserializer=_identity, response_serializer=_identity
        ),
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("oneiros.v1.Oneiros", handlers),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), open(sys.argv[2], "rb").read()))

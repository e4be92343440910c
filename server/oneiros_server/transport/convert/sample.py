"""Sample and SampleStream: proto <-> the sampler engine's plain types."""

from __future__ import annotations

from collections.abc import AsyncIterator

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call, Dataplane
from oneiros_server.engines.language_model.engine import Chunk, Completion, SampleRequest
from oneiros_server.errors import FieldError
from oneiros_server.transport.convert.enums import check_enums

FAMILY = "Sample"


def _request(plane: Dataplane, request: pb.SampleRequest) -> SampleRequest:
    limit = plane.repository.settings.sample_max_stop
    if len(request.stop) > limit:  # before the copy below, which grows with the list
        raise FieldError("stop", f"at most {limit} stop sequences")
    return SampleRequest(
        prompt=request.prompt,
        max_tokens=request.max_tokens,
        temperature=request.temperature if request.HasField("temperature") else None,
        top_k=request.top_k,
        top_p=request.top_p if request.HasField("top_p") else None,
        seed=request.seed if request.HasField("seed") else None,
        stop=tuple(request.stop),
        n=request.n,
    )


def _completion(c: Completion) -> pb.Completion:
    return pb.Completion(
        index=c.index,
        text=c.text,
        finish_reason=pb.FinishReason.Value(c.finish_reason),
        token_count=c.token_count,
        mean_entropy_bits=c.mean_entropy_bits,
    )


def _chunk(c: Chunk) -> pb.SampleChunk:
    chunk = pb.SampleChunk(index=c.index, text=c.text)
    if c.finish_reason is not None:
        chunk.finish_reason = pb.FinishReason.Value(c.finish_reason)
        chunk.token_count = c.token_count
        chunk.mean_entropy_bits = c.mean_entropy_bits
    return chunk


async def sample(plane: Dataplane, call: Call, request: pb.SampleRequest) -> pb.SampleResponse:
    check_enums(request)
    completions = await plane.sample(call, request.model, _request(plane, request))
    return pb.SampleResponse(
        completions=[_completion(c) for c in completions], model=plane.model_name(request.model, FAMILY)
    )


async def sample_stream(plane: Dataplane, call: Call, request: pb.SampleRequest) -> AsyncIterator[pb.SampleChunk]:
    check_enums(request)
    async for chunk in plane.sample_stream(call, request.model, _request(plane, request)):
        yield _chunk(chunk)

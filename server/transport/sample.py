"""Sample and SampleStream: proto <-> the sampler engine's plain types."""

from __future__ import annotations

from collections.abc import Iterator

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.control import CallControl
from oneiros_server.engines.sampler import Chunk, Completion, SampleRequest
from oneiros_server.repository import ModelRepository
from oneiros_server.transport.enums import check_enums

FAMILY = "Sample"


def _request(request: pb.SampleRequest) -> SampleRequest:
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


def _model_name(repo: ModelRepository, name: str) -> str:
    return name or repo.default_for(FAMILY).name


def sample(repo: ModelRepository, request: pb.SampleRequest, control: CallControl) -> pb.SampleResponse:
    check_enums(request)
    engine = repo.resolve(request.model, FAMILY)
    completions = engine.sample(_request(request), control)
    return pb.SampleResponse(completions=[_completion(c) for c in completions], model=_model_name(repo, request.model))


def sample_stream(repo: ModelRepository, request: pb.SampleRequest, control: CallControl) -> Iterator[pb.SampleChunk]:
    check_enums(request)
    engine = repo.resolve(request.model, FAMILY)
    chunks = engine.stream(_request(request), control)
    try:
        for chunk in chunks:
            yield _chunk(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()

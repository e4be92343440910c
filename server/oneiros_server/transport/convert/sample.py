"""Sample and SampleStream: proto <-> the sampler engine's plain types."""

from __future__ import annotations

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.engines.language_model.engine import Chunk, Completion, SampleRequest, SampleResult
from oneiros_server.errors import FieldError
from oneiros_server.settings import Settings


def _request(request: pb.SampleRequest, settings: Settings, stream: bool) -> SampleRequest:
    if len(request.stop) > settings.sample_max_stop:  # before the copy below, which grows with the list
        raise FieldError("stop", f"at most {settings.sample_max_stop} stop sequences")
    return SampleRequest(
        prompt=request.prompt,
        max_tokens=request.max_tokens,
        temperature=request.temperature if request.HasField("temperature") else None,
        top_k=request.top_k,
        top_p=request.top_p if request.HasField("top_p") else None,
        seed=request.seed if request.HasField("seed") else None,
        stop=tuple(request.stop),
        n=request.n,
        stream=stream,
    )


def sample_request(request: pb.SampleRequest, settings: Settings) -> SampleRequest:
    """Sample: the engine answers one SampleResult."""
    return _request(request, settings, stream=False)


def stream_request(request: pb.SampleRequest, settings: Settings) -> SampleRequest:
    """SampleStream: the engine answers Chunks as they come."""
    return _request(request, settings, stream=True)


def _completion(c: Completion) -> pb.Completion:
    return pb.Completion(
        index=c.index,
        text=c.text,
        finish_reason=pb.FinishReason.Value(c.finish_reason),
        token_count=c.token_count,
        mean_entropy_bits=c.mean_entropy_bits,
    )


def sample_response(result: SampleResult, request: pb.SampleRequest) -> pb.SampleResponse:
    completions = [_completion(c) for c in result.completions]
    return pb.SampleResponse(completions=completions, model=request.model or result.model)


def chunk_message(c: Chunk, request: pb.SampleRequest) -> pb.SampleChunk:
    chunk = pb.SampleChunk(index=c.index, text=c.text)
    if c.finish_reason is not None:
        chunk.finish_reason = pb.FinishReason.Value(c.finish_reason)
        chunk.token_count = c.token_count
        chunk.mean_entropy_bits = c.mean_entropy_bits
    return chunk

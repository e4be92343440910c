"""``POST /v1/completions``: the OpenAI completions API, converted to and from Sample.

Supported: ``model`` (empty = the default language model), ``prompt`` (a string or a list of
strings; one list entry's completions are choices ``i*n .. i*n+n-1``), ``max_tokens``,
``temperature``, ``top_p``, ``n``, ``stop``, ``seed``, ``stream`` (chunks, then ``data: [DONE]``),
``stream_options.include_usage`` and ``user`` (ignored). An omitted sampling parameter takes the
model's default (``GET /v1/models/{name}``), not OpenAI's. Any other parameter is refused with
OpenAI's error shape unless it has its no-op value (``echo: false``, ``logprobs: null``, ...).
Tokens are the model's characters, so ``usage`` counts characters.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.dataplane import Call
from oneiros_server.errors import FieldError
from oneiros_server.transport.http import codec, shapes, sse
from oneiros_server.transport.http.bodies import Bodies
from oneiros_server.transport.http.calls import ClientGone, HttpCalls, http_request_id, log_bug, timeout_s
from oneiros_server.transport.http.errors import HttpError, describe
from oneiros_server.transport.http.merge import merge
from oneiros_server.transport.rpcs import BY_NAME

SUPPORTED = {"model", "prompt", "max_tokens", "temperature", "top_p", "n", "stop", "seed", "stream", "user"}
SUPPORTED |= {"stream_options", "timeout"}
# OpenAI's documented defaults of the parameters this server does not implement: accepted as no-ops.
NO_OP = {"echo": (None, False), "logprobs": (None,), "suffix": (None,), "logit_bias": (None, {}), "best_of": (None, 1)}
NO_OP |= {"frequency_penalty": (None, 0), "presence_penalty": (None, 0)}
FINISH = {pb.LENGTH: "length", pb.STOP: "stop", pb.CANCELLED: "stop"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "invalid_request_error"}
ERROR_TYPES |= {413: "invalid_request_error", 415: "invalid_request_error", 422: "invalid_request_error"}
ERROR_TYPES |= {429: "rate_limit_error", 503: "server_error", 504: "timeout_error"}
ERROR_CODES = {"NOT_FOUND": "model_not_found", "RESOURCE_EXHAUSTED": "rate_limit_exceeded"}
ERROR_CODES |= {"UNAUTHENTICATED": "invalid_api_key"}
SAMPLE = BY_NAME["Sample"]
STREAM = SAMPLE.stream_handler


def openai_error(exc: BaseException) -> tuple[int, dict, dict[str, str]]:
    """(status, OpenAI error body, headers): ``{"error": {"message", "type", "param", "code"}}``."""
    status, body, headers = describe(exc)
    error = body["error"]
    param = exc.field if isinstance(exc, FieldError) else None
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    out = {"message": error["message"], "type": kind, "param": param, "code": ERROR_CODES.get(error["status"])}
    return status, {"error": out}, headers


def _error_response(exc: BaseException, rid: str) -> JSONResponse:
    status, body, headers = openai_error(exc)
    log_bug(exc, status, rid)
    return JSONResponse(body, status_code=status, headers=headers | {"x-request-id": rid})


def _requests(body: dict, max_sequences: int) -> tuple[str, list[pb.SampleRequest]]:
    """The Sample requests of one completion request (one per prompt); at most ``max_sequences``
    sequences in all (prompts x n), refused with the field ``n`` (or ``prompt``) as Sample refuses n."""
    for key, value in body.items():
        if key not in SUPPORTED and not _is_no_op(key, value):
            raise FieldError(key, "is not supported by this server" + (" with this value" if key in NO_OP else ""))
    prompts = body.get("prompt", "")
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise FieldError("prompt", "must be a string or a non-empty list of strings (token ids are not supported)")
    if len(prompts) > max_sequences:
        raise FieldError("prompt", f"has {len(prompts)} prompts; at most {max_sequences} (prompts x n)")
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise FieldError("stop", "must be a string or a list of strings")
    fields = {"prompt": "", "stop": stop}
    for key in ("max_tokens", "temperature", "top_p", "n", "seed"):
        value = body.get(key)
        if value is None:
            continue
        integer = key in ("max_tokens", "n", "seed")
        numeric = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not numeric or (integer and (value != int(value) or not 0 <= value < 2**64)):
            raise FieldError(key, "must be a non-negative 64-bit integer" if integer else "must be a finite number")
        fields[key] = int(value) if integer else value
    n = fields.get("n") or 1
    if len(prompts) * n > max_sequences:
        raise FieldError("n", f"{len(prompts)} prompts x n {n} = {len(prompts) * n} sequences; at most {max_sequences}")
    model = body.get("model") or ""
    if not isinstance(model, str):
        raise FieldError("model", "must be a string")
    try:
        return model, [pb.SampleRequest(model=model, **(fields | {"prompt": p})) for p in prompts]
    except (ValueError, TypeError, OverflowError):
        raise FieldError("body", "a number is out of range") from None


def _is_no_op(key: str, value: object) -> bool:
    return any(value == d and isinstance(value, bool) == isinstance(d, bool) for d in NO_OP.get(key, ()))


def _decode(body: bytes, max_sequences: int) -> tuple[dict, str, list[pb.SampleRequest]]:
    """The body, its model and its Sample requests (on the body pool: it grows with the body)."""
    data = codec.json_object(body)
    shapes.check_json(data)
    model, requests = _requests(data, max_sequences)
    return data, model, requests


def _usage(prompts: list[pb.SampleRequest], completion_tokens: int) -> dict:
    prompt_tokens = sum(len(r.prompt) for r in prompts)
    total = prompt_tokens + completion_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total}


class Completions:
    """The endpoint, over the same calls (admission, auth, deadline, disconnect) as the native routes."""

    def __init__(self, calls: HttpCalls, bodies: Bodies):
        self.calls = calls
        self.plane = calls.plane
        self.bodies = bodies
        self.max_sequences = calls.plane.settings.sample_max_n

    async def handle(self, request: Request) -> Response:
        rid = http_request_id(request)
        try:
            self.calls.authenticate(request)
            if codec.media_type(request) not in (codec.JSON, ""):
                raise HttpError(415, "INVALID_ARGUMENT", f"send Content-Type {codec.JSON}")
            body, model, requests = await self.bodies.parse(request, "Completions", _decode, self.max_sequences)
            timeout = timeout_s(request, body.get("timeout"))
            head = {"id": f"cmpl-{rid}", "object": "text_completion", "created": int(time.time())}
            if codec.flag(body.get("stream", False), "stream"):
                options = body.get("stream_options") or {}
                usage = isinstance(options, dict) and options.get("include_usage") is True
                return self._stream(rid, head, model, requests, timeout, usage)
            call = self.calls.open(rid, "Sample", model, timeout)
            replies = await self.calls.unary(request, call, lambda c: self._sample_all(c, requests))
        except ClientGone:
            return Response(status_code=499)
        except Exception as exc:
            return _error_response(exc, rid)
        choices, tokens = [], 0
        for i, reply in enumerate(replies):
            for c in reply.completions:
                n = requests[i].n or 1
                choices.append(
                    {
                        "text": c.text,
                        "index": i * n + c.index,
                        "logprobs": None,
                        "finish_reason": FINISH[c.finish_reason],
                    }
                )
                tokens += c.token_count
        body = head | {"model": replies[0].model, "choices": choices, "usage": _usage(requests, tokens)}
        return JSONResponse(body, headers={"x-request-id": rid})

    async def _sample_all(self, call: Call, requests: list[pb.SampleRequest]) -> list[pb.SampleResponse]:
        return list(await asyncio.gather(*(SAMPLE.handler(self.plane, call, r) for r in requests)))

    def _stream(self, rid: str, head: dict, model: str, requests: list, timeout: float | None, usage: bool):
        call = self.calls.open(rid, "SampleStream", model, timeout)
        streams = lambda c: merge([STREAM(self.plane, c, r) for r in requests])  # noqa: E731
        return sse.EventStream(
            call,
            self._chunks(self.plane.stream(call, streams), call, head, requests, usage),
            error_response=lambda exc: _error_response(exc, rid),
            error_event=lambda exc: sse.event(openai_error(exc)[1]),
            headers={"x-request-id": rid},
            done=sse.event("[DONE]"),
        )

    @staticmethod
    async def _chunks(
        events: AsyncIterator, call: Call, head: dict, requests: list, usage: bool
    ) -> AsyncIterator[dict]:
        tokens = 0
        try:
            async for i, chunk in events:
                if "model" not in head:  # the model the call holds (a default resolved as the call began)
                    head = head | {"model": call.held.name if call.held is not None else call.model}
                finish = FINISH[chunk.finish_reason] if chunk.finish_reason else None
                index = i * (requests[i].n or 1) + chunk.index
                choice = {"text": chunk.text, "index": index, "logprobs": None, "finish_reason": finish}
                tokens += chunk.token_count
                yield head | {"choices": [choice]}
            if usage:
                yield head | {"choices": [], "usage": _usage(requests, tokens)}
        finally:
            await events.aclose()  # type: ignore[attr-defined]

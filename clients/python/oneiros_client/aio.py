"""The asyncio Oneiros client (``grpc.aio``): the same methods as :class:`~oneiros_client.Client`, awaited."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import grpc
import grpc.aio
import numpy as np

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

from . import _convert as cv
from ._channel import DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_TARGET, ChannelConfig, RetryPolicy
from .errors import OneirosError, Unavailable, from_rpc_error
from .images import ImageLike
from .types import (
    Completion,
    DecodeResult,
    DreamResult,
    EditResult,
    ModelInfo,
    Progress,
    SampleChunk,
    StylizeResult,
)

T = TypeVar("T")
_DEFAULT: Any = object()  # "use the client's timeout"


class AsyncClient:
    """An asyncio client for every Oneiros RPC; arguments as :class:`~oneiros_client.Client`.

    Unary methods are coroutines; ``*_stream`` methods return async iterators::

        async with AsyncClient("localhost:50051") as client:
            async for chunk in client.sample_stream("In the beginning", temperature=0.5):
                print(chunk.text, end="")
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float | None = None,
        tls: bool = False,
        root_certificates: bytes | str | os.PathLike[str] | None = None,
        client_certificate: bytes | str | os.PathLike[str] | None = None,
        client_key: bytes | str | os.PathLike[str] | None = None,
        server_name: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        retries: int = 3,
        retry_policy: RetryPolicy | None = None,
        keepalive_s: float | None = None,
        keepalive_timeout_s: float = 20.0,
        keepalive_without_calls: bool = False,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        load_balancing: str | None = None,
        wait_for_ready: bool = False,
        options: Sequence[tuple[str, object]] = (),
    ):
        self.config = ChannelConfig(
            target=target,
            tls=tls,
            root_certificates=root_certificates,
            client_certificate=client_certificate,
            client_key=client_key,
            server_name=server_name,
            credentials=credentials,
            token=token,
            keepalive_s=keepalive_s,
            keepalive_timeout_s=keepalive_timeout_s,
            keepalive_without_calls=keepalive_without_calls,
            max_message_bytes=max_message_bytes,
            load_balancing=load_balancing,
            extra_options=tuple(options),
        )
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(retries=retries)
        if self.config.secure:
            self._channel = grpc.aio.secure_channel(target, self.config.channel_credentials(), self.config.options())
        else:
            self._channel = grpc.aio.insecure_channel(target, self.config.options())
        self._metadata = self.config.metadata()
        self._wait_for_ready = wait_for_ready
        self._stub = oneiros_pb2_grpc.OneirosStub(self._channel)
        self._health: Any = self._channel.unary_unary(cv.HEALTH_CHECK)

    # ------------------------------------------------------------ plumbing

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def channel(self) -> grpc.aio.Channel:
        """The underlying ``grpc.aio`` channel."""
        return self._channel

    def _deadline(self, timeout: float | None) -> float | None:
        timeout = self.timeout if timeout is _DEFAULT else timeout
        return None if timeout is None else time.monotonic() + timeout

    def _call_options(self, deadline: float | None) -> dict[str, Any]:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        return {"timeout": timeout, "metadata": self._metadata, "wait_for_ready": self._wait_for_ready}

    async def _backoff(self, err: OneirosError, attempt: int, deadline: float | None) -> bool:
        """Sleep before retry ``attempt + 1``; False when the call must fail now."""
        if not self.retry_policy.should_retry(err, attempt):
            return False
        delay = self.retry_policy.delay(err, attempt)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        await asyncio.sleep(delay)
        return True

    async def _unary(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            try:
                return await method(request, **self._call_options(deadline))
            except grpc.RpcError as e:
                err = from_rpc_error(e)
                if not await self._backoff(err, attempt, deadline):
                    raise err from None
                attempt += 1

    async def _stream(
        self, method: Callable[..., Any], request: Any, convert: Callable[[Any], T | None], timeout: float | None
    ) -> AsyncGenerator[T, None]:
        deadline = self._deadline(timeout)
        attempt = 0
        while True:
            call = method(request, **self._call_options(deadline))
            received = False
            try:
                async for message in call:
                    received = True
                    item = convert(message)
                    if item is not None:
                        yield item
                return
            except grpc.RpcError as e:
                err = from_rpc_error(e)
                if received or not await self._backoff(err, attempt, deadline):
                    raise err from None
                attempt += 1
            finally:
                call.cancel()

    # ------------------------------------------------------------ service

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the channel is connected; raise Unavailable after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
        except asyncio.TimeoutError:
            raise Unavailable(
                grpc.StatusCode.UNAVAILABLE, f"{self.config.target} not reachable within {timeout:g} s"
            ) from None

    async def health(self, service: str = "", *, timeout: float | None = _DEFAULT) -> str:
        """``grpc.health.v1`` status: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN".

        ``service`` "" is the whole server; per-service names are e.g. "oneiros.v1.Oneiros".
        """
        return cv.health_status(await self._unary(self._health, cv.health_request(service), timeout))

    async def models(self, kind: str | int = 0, *, timeout: float | None = _DEFAULT) -> list[ModelInfo]:
        """Every model in the server's repository (optionally only one ``kind``, e.g. "VAE")."""
        kind_value = cv._enum(pb.ModelKind, kind or 0, "kind")
        resp = await self._unary(self._stub.ListModels, pb.ListModelsRequest(kind=kind_value), timeout)
        return [cv.model_info(m) for m in resp.models]

    async def model(self, name: str, version: str = "", *, timeout: float | None = _DEFAULT) -> ModelInfo:
        """One model's metadata (newest version unless ``version`` is given); NotFound if absent."""
        return cv.model_info(await self._unary(self._stub.GetModel, pb.GetModelRequest(name=name, version=version), timeout))

    # ------------------------------------------------------------ Sample

    async def sample(
        self,
        prompt: str,
        *,
        model: str = "",
        max_tokens: int = 0,
        temperature: float | None = None,
        top_k: int = 0,
        top_p: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] = (),
        n: int = 1,
        timeout: float | None = _DEFAULT,
    ) -> list[Completion]:
        """Generate ``n`` continuations of ``prompt`` with a language model.

        ``temperature`` None = the model's default, 0 = greedy; ``max_tokens`` 0 =
        the model's default; ``top_k`` 0 = off; ``top_p`` in (0, 1]; same ``seed``
        and request = same text; generation ends at any ``stop`` string (not returned).
        """
        req = cv.sample_request(
            prompt, model=model, max_tokens=max_tokens, temperature=temperature,
            top_k=top_k, top_p=top_p, seed=seed, stop=stop, n=n,
        )  # fmt: skip
        resp = await self._unary(self._stub.Sample, req, timeout)
        return sorted((cv.completion(c) for c in resp.completions), key=lambda c: c.index)

    def sample_stream(
        self,
        prompt: str,
        *,
        model: str = "",
        max_tokens: int = 0,
        temperature: float | None = None,
        top_k: int = 0,
        top_p: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] = (),
        n: int = 1,
        timeout: float | None = _DEFAULT,
    ) -> AsyncGenerator[SampleChunk, None]:
        """As :meth:`sample`, yielding text pieces as they are generated.

        Closing the iterator (``await it.aclose()``, or ``async with
        contextlib.aclosing(...)``) cancels the call and the server stops generating.
        """
        req = cv.sample_request(
            prompt, model=model, max_tokens=max_tokens, temperature=temperature,
            top_k=top_k, top_p=top_p, seed=seed, stop=stop, n=n,
        )  # fmt: skip
        return self._stream(self._stub.SampleStream, req, cv.sample_chunk, timeout)

    # ------------------------------------------------------------ Dream

    async def dream(
        self,
        image: ImageLike,
        *,
        model: str = "",
        layer_weights: Mapping[str, float] | None = None,
        octaves: int = 0,
        octave_scale: float = 0.0,
        steps_per_octave: int = 0,
        step_size: float = 0.0,
        max_loss: float | None = None,
        jitter: int = 0,
        seed: int | None = None,
        max_side: int = 0,
        output_format: str = "PNG",
        timeout: float | None = _DEFAULT,
    ) -> DreamResult:
        """DeepDream ``image`` (PIL, numpy, path or encoded bytes).

        Zero values and None mean the model's defaults (see ``model(...).default_parameters``);
        ``layer_weights`` maps layer names (``model(...).layers``) to weights.
        """
        req = cv.dream_request(
            image, model=model, layer_weights=layer_weights, octaves=octaves, octave_scale=octave_scale,
            steps_per_octave=steps_per_octave, step_size=step_size, max_loss=max_loss, jitter=jitter,
            seed=seed, max_side=max_side, output_format=output_format,
        )  # fmt: skip
        return cv.dream_result(await self._unary(self._stub.Dream, req, timeout))

    def dream_stream(
        self,
        image: ImageLike,
        *,
        model: str = "",
        layer_weights: Mapping[str, float] | None = None,
        octaves: int = 0,
        octave_scale: float = 0.0,
        steps_per_octave: int = 0,
        step_size: float = 0.0,
        max_loss: float | None = None,
        jitter: int = 0,
        seed: int | None = None,
        max_side: int = 0,
        output_format: str = "PNG",
        preview_every: int = 0,
        timeout: float | None = _DEFAULT,
    ) -> AsyncGenerator[Progress | DreamResult, None]:
        """As :meth:`dream`, yielding a :class:`Progress` per step (with a preview image
        every ``preview_every`` steps) and finally the :class:`DreamResult`.
        Closing the iterator cancels the job on the server."""
        req = cv.dream_request(
            image, model=model, layer_weights=layer_weights, octaves=octaves, octave_scale=octave_scale,
            steps_per_octave=steps_per_octave, step_size=step_size, max_loss=max_loss, jitter=jitter,
            seed=seed, max_side=max_side, output_format=output_format, preview_every=preview_every,
        )  # fmt: skip
        return self._stream(self._stub.DreamStream, req, cv.dream_event, timeout)

    # ------------------------------------------------------------ Stylize

    async def stylize(
        self,
        content: ImageLike,
        style: ImageLike,
        *,
        model: str = "",
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float | None = None,
        style_layers: Mapping[str, float] | None = None,
        content_layers: Sequence[str] = (),
        steps: int = 0,
        optimizer: str = "LBFGS",
        learning_rate: float | None = None,
        init: str = "CONTENT",
        preserve_color: bool = False,
        coarse_to_fine: bool = False,
        max_side: int = 0,
        seed: int | None = None,
        output_format: str = "PNG",
        timeout: float | None = _DEFAULT,
    ) -> StylizeResult:
        """Neural style transfer: ``content`` painted in the style of ``style``.

        ``optimizer`` "LBFGS" or "ADAM"; ``init`` "CONTENT", "NOISE" or "STYLE";
        None/zero values mean the model's defaults.
        """
        req = cv.stylize_request(
            content, style, model=model, content_weight=content_weight, style_weight=style_weight,
            tv_weight=tv_weight, style_layers=style_layers, content_layers=content_layers, steps=steps,
            optimizer=optimizer, learning_rate=learning_rate, init=init, preserve_color=preserve_color,
            coarse_to_fine=coarse_to_fine, max_side=max_side, seed=seed, output_format=output_format,
        )  # fmt: skip
        return cv.stylize_result(await self._unary(self._stub.Stylize, req, timeout))

    def stylize_stream(
        self,
        content: ImageLike,
        style: ImageLike,
        *,
        model: str = "",
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float | None = None,
        style_layers: Mapping[str, float] | None = None,
        content_layers: Sequence[str] = (),
        steps: int = 0,
        optimizer: str = "LBFGS",
        learning_rate: float | None = None,
        init: str = "CONTENT",
        preserve_color: bool = False,
        coarse_to_fine: bool = False,
        max_side: int = 0,
        seed: int | None = None,
        output_format: str = "PNG",
        preview_every: int = 0,
        timeout: float | None = _DEFAULT,
    ) -> AsyncGenerator[Progress | StylizeResult, None]:
        """As :meth:`stylize`, yielding :class:`Progress` per step (loss and its parts)
        and finally the :class:`StylizeResult`. Closing the iterator cancels the job."""
        req = cv.stylize_request(
            content, style, model=model, content_weight=content_weight, style_weight=style_weight,
            tv_weight=tv_weight, style_layers=style_layers, content_layers=content_layers, steps=steps,
            optimizer=optimizer, learning_rate=learning_rate, init=init, preserve_color=preserve_color,
            coarse_to_fine=coarse_to_fine, max_side=max_side, seed=seed, output_format=output_format,
            preview_every=preview_every,
        )  # fmt: skip
        return self._stream(self._stub.StylizeStream, req, cv.stylize_event, timeout)

    # ------------------------------------------------------------ latent spaces

    async def decode(
        self,
        latents: cv.LatentsLike | None = None,
        *,
        count: int = 0,
        seed: int | None = None,
        grid: cv.GridLike | None = None,
        model: str = "",
        output_format: str = "PNG",
        timeout: float | None = _DEFAULT,
    ) -> DecodeResult:
        """Latent points to images (VAE decoder / GAN generator).

        Give one of: ``latents`` ((N, D) or (D,) array), ``count`` points from the
        prior (same ``seed``, same images), or ``grid`` (:class:`Grid` or
        ``(axis_x, axis_y, steps[, extent])``: steps x steps images, row-major).
        """
        req = cv.decode_request(latents, count=count, seed=seed, grid=grid, model=model, output_format=output_format)
        return cv.decode_result(await self._unary(self._stub.Decode, req, timeout))

    async def edit_latent(
        self,
        image: ImageLike | None = None,
        *,
        latent: Sequence[float] | np.ndarray | None = None,
        edits: cv.EditsLike | None = None,
        direction: Sequence[float] | np.ndarray | None = None,
        sweep_attribute: str | None = None,
        strengths: Sequence[float] = (),
        target_image: ImageLike | None = None,
        target_latent: Sequence[float] | np.ndarray | None = None,
        interpolation_steps: int = 0,
        interpolation: str = "LERP",
        model: str = "",
        output_format: str = "PNG",
        timeout: float | None = _DEFAULT,
    ) -> EditResult:
        """Encode ``image`` (or take ``latent``), move it, decode.

        - ``edits={"thickness": 1.5, "digit_3": 1.0}``: applied together, one image;
        - ``sweep_attribute="thickness"`` (or a raw ``direction``) with
          ``strengths=(-2, -1, 0, 1, 2)``: one image per strength;
        - ``target_image``/``target_latent`` with ``interpolation_steps`` and
          ``interpolation`` "LERP" or "SLERP": the path from source to target.
        """
        req = cv.edit_request(
            image, latent=latent, edits=edits, direction=direction, sweep_attribute=sweep_attribute,
            strengths=strengths, target_image=target_image, target_latent=target_latent,
            interpolation_steps=interpolation_steps, interpolation=interpolation, model=model,
            output_format=output_format,
        )  # fmt: skip
        return cv.edit_result(await self._unary(self._stub.EditLatent, req, timeout))

"""The asyncio Oneiros client (``grpc.aio``): the same methods as :class:`~oneiros_client.Client`, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import grpc
import grpc.aio
import numpy as np

from . import _calls
from . import _requests as rq
from . import _responses as rs
from ._base import DEFAULT, ClientBase
from ._loop_channels import LazyStub, LoopChannels
from .client import Client
from .errors import Unavailable
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

F = TypeVar("F", bound=Callable[..., Any])


def _shared_doc(method: F) -> F:
    """Give ``method`` the docstring of the :class:`Client` method of the same name."""
    method.__doc__ = getattr(Client, method.__name__).__doc__
    return method


class AsyncClient(ClientBase):
    """An asyncio client for every Oneiros RPC; arguments as :class:`~oneiros_client.Client`.

    Unary methods are coroutines; ``*_stream`` methods return async iterators::

        async with AsyncClient("localhost:50051") as client:
            async for chunk in client.sample_stream("In the beginning", temperature=0.5):
                print(chunk.text, end="")

    The client may be made anywhere (no event loop needed) and used from several
    ``asyncio.run`` calls: each running loop gets its own channel on first use,
    closed by :meth:`close` or when that loop shuts down.
    """

    def _connect(self) -> None:
        self._channels = LoopChannels(self._open_channel)
        self._stub: Any = LazyStub(self._channels)
        self._health: Any = LazyStub(self._channels)

    def _open_channel(self) -> grpc.aio.Channel:
        config = self.config
        if config.secure:
            return grpc.aio.secure_channel(config.target, config.channel_credentials(), config.options())
        return grpc.aio.insecure_channel(config.target, config.options())

    async def close(self) -> None:
        """Close the running loop's channel; calls in flight are cancelled."""
        await self._channels.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def channel(self) -> grpc.aio.Channel:
        """The running loop's ``grpc.aio`` channel (opened now if needed; call inside the loop)."""
        return self._channels.current().channel

    # ------------------------------------------------------------ service

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the channel is connected; raise Unavailable after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self.channel.channel_ready(), timeout)
        except TimeoutError:
            raise Unavailable(
                grpc.StatusCode.UNAVAILABLE, f"{self.config.target} not reachable within {timeout:g} s"
            ) from None

    @_shared_doc
    async def health(self, service: str = "", *, timeout: float | None = DEFAULT) -> str:
        return rs.health_status(await _calls.unary_async(self, self._health, rq.health_request(service), timeout))

    @_shared_doc
    async def models(self, kind: str | int = 0, *, timeout: float | None = DEFAULT) -> list[ModelInfo]:
        req = rq.list_models_request(kind)
        return rs.model_list(await _calls.unary_async(self, self._stub.ListModels, req, timeout))

    @_shared_doc
    async def model(self, name: str, version: str = "", *, timeout: float | None = DEFAULT) -> ModelInfo:
        req = rq.get_model_request(name, version)
        return rs.model_info(await _calls.unary_async(self, self._stub.GetModel, req, timeout))

    # ------------------------------------------------------------ Sample

    @_shared_doc
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
        timeout: float | None = DEFAULT,
    ) -> list[Completion]:
        req = rq.sample_request(
            prompt,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
            stop=stop,
            n=n,
        )
        return rs.completions(await _calls.unary_async(self, self._stub.Sample, req, timeout))

    @_shared_doc
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
        timeout: float | None = DEFAULT,
    ) -> AsyncGenerator[SampleChunk, None]:
        req = rq.sample_request(
            prompt,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
            stop=stop,
            n=n,
        )
        return _calls.stream_async(self, self._stub.SampleStream, req, rs.sample_chunk, timeout)

    # ------------------------------------------------------------ Dream

    @_shared_doc
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
        jitter: int | None = None,
        seed: int | None = None,
        max_side: int = 0,
        output_format: str = "PNG",
        timeout: float | None = DEFAULT,
    ) -> DreamResult:
        req = rq.dream_request(
            image,
            model=model,
            layer_weights=layer_weights,
            octaves=octaves,
            octave_scale=octave_scale,
            steps_per_octave=steps_per_octave,
            step_size=step_size,
            max_loss=max_loss,
            jitter=jitter,
            seed=seed,
            max_side=max_side,
            output_format=output_format,
        )
        return rs.dream_result(await _calls.unary_async(self, self._stub.Dream, req, timeout))

    @_shared_doc
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
        jitter: int | None = None,
        seed: int | None = None,
        max_side: int = 0,
        output_format: str = "PNG",
        preview_every: int = 0,
        timeout: float | None = DEFAULT,
    ) -> AsyncGenerator[Progress | DreamResult, None]:
        req = rq.dream_request(
            image,
            model=model,
            layer_weights=layer_weights,
            octaves=octaves,
            octave_scale=octave_scale,
            steps_per_octave=steps_per_octave,
            step_size=step_size,
            max_loss=max_loss,
            jitter=jitter,
            seed=seed,
            max_side=max_side,
            output_format=output_format,
            preview_every=preview_every,
        )
        return _calls.stream_async(self, self._stub.DreamStream, req, rs.dream_event, timeout)

    # ------------------------------------------------------------ Stylize

    @_shared_doc
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
        timeout: float | None = DEFAULT,
    ) -> StylizeResult:
        req = rq.stylize_request(
            content,
            style,
            model=model,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            style_layers=style_layers,
            content_layers=content_layers,
            steps=steps,
            optimizer=optimizer,
            learning_rate=learning_rate,
            init=init,
            preserve_color=preserve_color,
            coarse_to_fine=coarse_to_fine,
            max_side=max_side,
            seed=seed,
            output_format=output_format,
        )
        return rs.stylize_result(await _calls.unary_async(self, self._stub.Stylize, req, timeout))

    @_shared_doc
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
        timeout: float | None = DEFAULT,
    ) -> AsyncGenerator[Progress | StylizeResult, None]:
        req = rq.stylize_request(
            content,
            style,
            model=model,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            style_layers=style_layers,
            content_layers=content_layers,
            steps=steps,
            optimizer=optimizer,
            learning_rate=learning_rate,
            init=init,
            preserve_color=preserve_color,
            coarse_to_fine=coarse_to_fine,
            max_side=max_side,
            seed=seed,
            output_format=output_format,
            preview_every=preview_every,
        )
        return _calls.stream_async(self, self._stub.StylizeStream, req, rs.stylize_event, timeout)

    # ------------------------------------------------------------ latent spaces

    @_shared_doc
    async def decode(
        self,
        latents: rq.LatentsLike | None = None,
        *,
        count: int = 0,
        seed: int | None = None,
        grid: rq.GridLike | None = None,
        model: str = "",
        output_format: str = "PNG",
        timeout: float | None = DEFAULT,
    ) -> DecodeResult:
        req = rq.decode_request(latents, count=count, seed=seed, grid=grid, model=model, output_format=output_format)
        return rs.decode_result(await _calls.unary_async(self, self._stub.Decode, req, timeout))

    @_shared_doc
    async def edit_latent(
        self,
        image: ImageLike | None = None,
        *,
        latent: Sequence[float] | np.ndarray | None = None,
        edits: rq.EditsLike | None = None,
        direction: Sequence[float] | np.ndarray | None = None,
        sweep_attribute: str | None = None,
        strengths: Sequence[float] = (),
        target_image: ImageLike | None = None,
        target_latent: Sequence[float] | np.ndarray | None = None,
        interpolation_steps: int = 0,
        interpolation: str = "LERP",
        model: str = "",
        output_format: str = "PNG",
        timeout: float | None = DEFAULT,
    ) -> EditResult:
        req = rq.edit_request(
            image,
            latent=latent,
            edits=edits,
            direction=direction,
            sweep_attribute=sweep_attribute,
            strengths=strengths,
            target_image=target_image,
            target_latent=target_latent,
            interpolation_steps=interpolation_steps,
            interpolation=interpolation,
            model=model,
            output_format=output_format,
        )
        return rs.edit_result(await _calls.unary_async(self, self._stub.EditLatent, req, timeout))

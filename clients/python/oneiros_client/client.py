"""The synchronous Oneiros client."""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence

import grpc
import numpy as np

from oneiros.v1 import oneiros_pb2_grpc

from . import _calls
from . import _requests as rq
from . import _responses as rs
from ._base import DEFAULT, ClientBase
from ._channel import ChannelConfig
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


class Client(ClientBase):
    """A blocking client for every Oneiros RPC (arguments: see ``__init__``).

    Use it as a context manager, or call :meth:`close`.
    """

    def _connect(self) -> None:
        self._channel = self._open_channel(self.config)
        self._stub = oneiros_pb2_grpc.OneirosStub(self._channel)
        self._health = self._channel.unary_unary(rq.HEALTH_CHECK)

    @staticmethod
    def _open_channel(config: ChannelConfig) -> grpc.Channel:
        if config.secure:
            return grpc.secure_channel(config.target, config.channel_credentials(), config.options())
        return grpc.insecure_channel(config.target, config.options())

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def channel(self) -> grpc.Channel:
        """The underlying gRPC channel (for other stubs on the same connection)."""
        return self._channel

    # ------------------------------------------------------------ service

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the channel is connected; raise Unavailable after ``timeout`` seconds."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise Unavailable(
                grpc.StatusCode.UNAVAILABLE, f"{self.config.target} not reachable within {timeout:g} s"
            ) from None

    def health(self, service: str = "", *, timeout: float | None = DEFAULT) -> str:
        """``grpc.health.v1`` status: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN".

        ``service`` "" is the whole server; per-service names are e.g. "oneiros.v1.Oneiros".
        """
        return rs.health_status(_calls.unary(self, self._health, rq.health_request(service), timeout))

    def models(self, kind: str | int = 0, *, timeout: float | None = DEFAULT) -> list[ModelInfo]:
        """Every model in the server's repository (optionally only one ``kind``, e.g. "VAE")."""
        return rs.model_list(_calls.unary(self, self._stub.ListModels, rq.list_models_request(kind), timeout))

    def model(self, name: str, version: str = "", *, timeout: float | None = DEFAULT) -> ModelInfo:
        """One model's metadata (newest version unless ``version`` is given); NotFound if absent."""
        return rs.model_info(_calls.unary(self, self._stub.GetModel, rq.get_model_request(name, version), timeout))

    # ------------------------------------------------------------ Sample

    def sample(
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
        """Generate ``n`` continuations of ``prompt`` with a language model.

        ``temperature`` None = the model's default, 0 = greedy; ``max_tokens`` 0 =
        the model's default; ``top_k`` 0 = off; ``top_p`` in (0, 1]; same ``seed``
        and request = same text; generation ends at any ``stop`` string (not returned).
        """
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
        return rs.completions(_calls.unary(self, self._stub.Sample, req, timeout))

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
    ) -> Generator[SampleChunk, None, None]:
        """As :meth:`sample`, yielding text pieces as they are generated.

        Closing the iterator (``break`` then garbage collection, or ``.close()``)
        cancels the call and the server stops generating.
        """
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
        return _calls.stream(self, self._stub.SampleStream, req, rs.sample_chunk, timeout)

    # ------------------------------------------------------------ Dream

    def dream(
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
        """DeepDream ``image`` (PIL, numpy, path or encoded bytes).

        Zero values and None mean the model's defaults (see ``model(...).default_parameters``);
        ``layer_weights`` maps layer names (``model(...).layers``) to weights.
        """
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
        return rs.dream_result(_calls.unary(self, self._stub.Dream, req, timeout))

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
    ) -> Generator[Progress | DreamResult, None, None]:
        """As :meth:`dream`, yielding a :class:`Progress` per step (with a preview image
        every ``preview_every`` steps) and finally the :class:`DreamResult`.
        Closing the iterator cancels the job on the server."""
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
        return _calls.stream(self, self._stub.DreamStream, req, rs.dream_event, timeout)

    # ------------------------------------------------------------ Stylize

    def stylize(
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
        """Neural style transfer: ``content`` painted in the style of ``style``.

        ``optimizer`` "LBFGS" or "ADAM"; ``init`` "CONTENT", "NOISE" or "STYLE";
        None/zero values mean the model's defaults.
        """
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
        return rs.stylize_result(_calls.unary(self, self._stub.Stylize, req, timeout))

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
    ) -> Generator[Progress | StylizeResult, None, None]:
        """As :meth:`stylize`, yielding :class:`Progress` per step (loss and its parts)
        and finally the :class:`StylizeResult`. Closing the iterator cancels the job."""
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
        return _calls.stream(self, self._stub.StylizeStream, req, rs.stylize_event, timeout)

    # ------------------------------------------------------------ latent spaces

    def decode(
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
        """Latent points to images (VAE decoder / GAN generator).

        Give one of: ``latents`` ((N, D) or (D,) array), ``count`` points from the
        prior (same ``seed``, same images), or ``grid`` (:class:`Grid` or
        ``(axis_x, axis_y, steps[, extent])``: steps x steps images, row-major).
        """
        req = rq.decode_request(latents, count=count, seed=seed, grid=grid, model=model, output_format=output_format)
        return rs.decode_result(_calls.unary(self, self._stub.Decode, req, timeout))

    def edit_latent(
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
        """Encode ``image`` (or take ``latent``), move it, decode.

        - ``edits={"thickness": 1.5, "digit_3": 1.0}``: applied together, one image;
        - ``sweep_attribute="thickness"`` (or a raw ``direction``) with
          ``strengths=(-2, -1, 0, 1, 2)``: one image per strength;
        - ``target_image``/``target_latent`` with ``interpolation_steps`` and
          ``interpolation`` "LERP" or "SLERP": the path from source to target.
        """
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
        return rs.edit_result(_calls.unary(self, self._stub.EditLatent, req, timeout))

"""The SDK's RPC methods, for generate_sdk.py: what each is called, calls, builds, returns and says.

A method's parameters are not here: they are its request builder's, in oneiros_client/_requests.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """One client method: its parameters are those of ``build`` (less ``omit``), plus ``timeout``."""

    name: str
    call: str  # the callable that sends the request
    build: str  # the request builder in _requests.py
    convert: str  # the response converter in _responses.py
    result: str  # what the method returns, or what each item of a stream is
    doc: str
    stream: bool = False
    omit: tuple[str, ...] = ()


METHODS = (
    Method(
        "health",
        "self._health",
        "health_request",
        "health_status",
        "str",
        """``grpc.health.v1`` status: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN".

        ``service`` "" is the whole server; per-service names are e.g. "oneiros.v1.Oneiros".""",
    ),
    Method(
        "models",
        "self._stub.ListModels",
        "list_models_request",
        "model_list",
        "list[ModelInfo]",
        """Every model in the server's repository (optionally only one ``kind``, e.g. "VAE").""",
    ),
    Method(
        "model",
        "self._stub.GetModel",
        "get_model_request",
        "model_info",
        "ModelInfo",
        """One model's metadata (newest version unless ``version`` is given); NotFound if absent.""",
    ),
    Method(
        "sample",
        "self._stub.Sample",
        "sample_request",
        "completions",
        "list[Completion]",
        """Generate ``n`` continuations of ``prompt`` with a language model.

        ``temperature`` None = the model's default, 0 = greedy; ``max_tokens`` 0 =
        the model's default; ``top_k`` 0 = off; ``top_p`` in (0, 1]; same ``seed``
        and request = same text; generation ends at any ``stop`` string (not returned).""",
    ),
    Method(
        "sample_stream",
        "self._stub.SampleStream",
        "sample_request",
        "sample_chunk",
        "SampleChunk",
        """As :meth:`sample`, yielding text pieces as they are generated.

        Closing the iterator (``break`` then garbage collection, or ``.aclose()``)
        cancels the call and the server stops generating.""",
        stream=True,
    ),
    Method(
        "dream",
        "self._stub.Dream",
        "dream_request",
        "dream_result",
        "DreamResult",
        """DeepDream ``image`` (PIL, numpy, path or encoded bytes).

        Zero values and None mean the model's defaults (see ``model(...).default_parameters``);
        ``layer_weights`` maps layer names (``model(...).layers``) to weights.""",
        omit=("preview_every",),
    ),
    Method(
        "dream_stream",
        "self._stub.DreamStream",
        "dream_request",
        "dream_event",
        "Progress | DreamResult",
        """As :meth:`dream`, yielding a :class:`Progress` per step (with a preview image
        every ``preview_every`` steps) and finally the :class:`DreamResult`.
        Closing the iterator cancels the job on the server.""",
        stream=True,
    ),
    Method(
        "stylize",
        "self._stub.Stylize",
        "stylize_request",
        "stylize_result",
        "StylizeResult",
        """Neural style transfer: ``content`` painted in the style of ``style``, or, with a
        ``model`` of kind STYLE_NETWORK, in that network's own style (then no ``style``).

        ``optimizer`` "LBFGS" or "ADAM"; ``init`` "CONTENT", "NOISE" or "STYLE";
        None/zero values mean the model's defaults.""",
        omit=("preview_every",),
    ),
    Method(
        "stylize_stream",
        "self._stub.StylizeStream",
        "stylize_request",
        "stylize_event",
        "Progress | StylizeResult",
        """As :meth:`stylize`, yielding :class:`Progress` per step (loss and its parts)
        and finally the :class:`StylizeResult`. Closing the iterator cancels the job.""",
        stream=True,
    ),
    Method(
        "decode",
        "self._stub.Decode",
        "decode_request",
        "decode_result",
        "DecodeResult",
        """Latent points to images (VAE decoder / GAN generator).

        Give one of: ``latents`` ((N, D) or (D,) array), ``count`` points from the
        prior (same ``seed``, same images), or ``grid`` (:class:`Grid` or
        ``(axis_x, axis_y, steps[, extent])``: steps x steps images, row-major).""",
    ),
    Method(
        "edit_latent",
        "self._stub.EditLatent",
        "edit_request",
        "edit_result",
        "EditResult",
        """Encode ``image`` (or take ``latent``), move it, decode.

        - ``edits={"thickness": 1.5, "digit_3": 1.0}``: applied together, one image;
        - ``sweep_attribute="thickness"`` (or a raw ``direction``) with
          ``strengths=(-2, -1, 0, 1, 2)``: one image per strength;
        - ``target_image``/``target_latent`` with ``interpolation_steps`` and
          ``interpolation`` "LERP" or "SLERP": the path from source to target.""",
    ),
)

METHODS_MODULE = '''"""Every Oneiros RPC as a method of the asyncio client (its channel is opened by ``aio.py``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence

import numpy as np

from . import _calls_async as calls
from . import _requests as rq
from . import _responses as rs
from ._base import DEFAULT, ClientBase
from ._requests import EditsLike, GridLike, LatentsLike
from .images import ImageLike
from .types import Completion, DecodeResult, DreamResult, EditResult, ModelInfo, Progress, SampleChunk, StylizeResult


class AsyncClientMethods(ClientBase):
    """One method per RPC; :class:`~oneiros_client.AsyncClient` adds the channel they call."""
'''

"""Request messages built from the clients' keyword arguments (shared by Client and AsyncClient).

Each RPC's parameters are declared once, here: the client methods are rendered from these
builders' signatures by ``make sdk`` (clients/python/generate_sdk.py), so a parameter added
to a builder appears in both clients. Optional proto fields are only set when the caller
passes a value, so the server sees them as unset (``HasField`` is False) and applies its defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from oneiros.v1 import oneiros_pb2 as pb

from . import images
from .images import ImageLike
from .types import Grid

LatentsLike = np.ndarray | Sequence[Sequence[float]] | Sequence[float]
EditsLike = Mapping[str, float] | Iterable[tuple[str, float]]
GridLike = Grid | Sequence[float]

# grpc.health.v1 is two tiny messages; encoding them here spares a dependency.
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


def _enum(enum: Any, value: str | int, what: str) -> Any:
    if isinstance(value, int):
        return value
    name = value.upper()
    if what == "output_format" and name == "JPG":
        name = "JPEG"
    try:
        return enum.Value(name)
    except ValueError:
        raise ValueError(f"{what} must be one of {', '.join(enum.keys())}, got {value!r}") from None


def _set_given(req: Any, **values: object) -> None:
    """Set each optional field whose value is not None (None leaves it unset: the model's default)."""
    for name, value in values.items():
        if value is not None:
            setattr(req, name, value)


def _vector(values: Sequence[float] | np.ndarray) -> pb.Vector:
    a = np.asarray(values, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"a latent vector must be 1-D, got shape {a.shape}")
    return pb.Vector(values=a.tolist())


def latents_to_proto(latents: LatentsLike) -> list[pb.Vector]:
    """A (D,) vector or (N, D) batch as ``Vector`` messages."""
    a = np.asarray(latents, dtype=np.float32)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"latents must be (D,) or (N, D), got shape {a.shape}")
    return [pb.Vector(values=row.tolist()) for row in a]


def health_request(service: str = "") -> bytes:
    """``HealthCheckRequest{service}`` on the wire (field 1, length-delimited)."""
    data = service.encode()
    if not data:
        return b""
    n, prefix = len(data), bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        prefix.append(byte | (0x80 if n else 0))
        if not n:
            break
    return b"\x0a" + bytes(prefix) + data


def list_models_request(kind: str | int = 0) -> pb.ListModelsRequest:
    return pb.ListModelsRequest(kind=_enum(pb.ModelKind, kind or 0, "kind"))


def get_model_request(name: str, version: str = "") -> pb.GetModelRequest:
    return pb.GetModelRequest(name=name, version=version)


def sample_request(
    prompt: str,
    *,
    model: str = "",
    model_version: str = "",
    max_tokens: int = 0,
    temperature: float | None = None,
    top_k: int = 0,
    top_p: float | None = None,
    seed: int | None = None,
    stop: Sequence[str] = (),
    n: int = 1,
) -> pb.SampleRequest:
    if isinstance(stop, str):
        stop = (stop,)
    req = pb.SampleRequest(
        model=model,
        model_version=model_version,
        prompt=prompt,
        max_tokens=max_tokens,
        top_k=top_k,
        stop=list(stop),
        n=n,
    )
    _set_given(req, temperature=temperature, top_p=top_p, seed=seed)
    return req


def dream_request(
    image: ImageLike,
    *,
    model: str = "",
    model_version: str = "",
    layer_weights: Mapping[str, float] | None = None,
    octaves: int = 0,
    octave_scale: float = 0.0,
    steps_per_octave: int = 0,
    step_size: float = 0.0,
    max_loss: float | None = None,
    jitter: int | None = None,
    seed: int | None = None,
    max_side: int = 0,
    output_format: str | int = "PNG",
    preview_every: int = 0,
) -> pb.DreamRequest:
    req = pb.DreamRequest(
        model_version=model_version,
        model=model,
        image=images.to_proto(image),
        layer_weights=dict(layer_weights or {}),
        octaves=octaves,
        octave_scale=octave_scale,
        steps_per_octave=steps_per_octave,
        step_size=step_size,
        max_side=max_side,
        output_format=_enum(pb.ImageFormat, output_format, "output_format"),
        preview_every=preview_every,
    )
    _set_given(req, max_loss=max_loss, jitter=jitter, seed=seed)
    return req


def stylize_request(
    content: ImageLike,
    style: ImageLike | None = None,
    *,
    model: str = "",
    model_version: str = "",
    content_weight: float | None = None,
    style_weight: float | None = None,
    tv_weight: float | None = None,
    style_layers: Mapping[str, float] | None = None,
    content_layers: Sequence[str] = (),
    steps: int = 0,
    optimizer: str | int = "LBFGS",
    learning_rate: float | None = None,
    init: str | int = "CONTENT",
    preserve_color: bool = False,
    coarse_to_fine: bool = False,
    max_side: int = 0,
    seed: int | None = None,
    output_format: str | int = "PNG",
    preview_every: int = 0,
) -> pb.StylizeRequest:
    req = pb.StylizeRequest(
        model_version=model_version,
        model=model,
        content=images.to_proto(content),
        style_layers=dict(style_layers or {}),
        content_layers=list(content_layers),
        steps=steps,
        optimizer=_enum(pb.Optimizer, optimizer, "optimizer"),
        init=_enum(pb.StylizeInit, init, "init"),
        preserve_color=preserve_color,
        coarse_to_fine=coarse_to_fine,
        max_side=max_side,
        output_format=_enum(pb.ImageFormat, output_format, "output_format"),
        preview_every=preview_every,
    )
    if style is not None:  # a STYLE_NETWORK model has its own style and refuses one
        req.style.CopyFrom(images.to_proto(style))
    _set_given(
        req,
        content_weight=content_weight,
        style_weight=style_weight,
        tv_weight=tv_weight,
        learning_rate=learning_rate,
        seed=seed,
    )
    return req


def _grid(grid: GridLike) -> pb.Grid:
    if not isinstance(grid, Grid):
        values = list(grid)
        if not 2 <= len(values) <= 4:
            raise ValueError("grid must be a Grid or (axis_x, axis_y[, steps[, extent]])")
        grid = Grid(int(values[0]), int(values[1]), *(int(v) for v in values[2:3]), *(float(v) for v in values[3:]))
    return pb.Grid(axis_x=int(grid.axis_x), axis_y=int(grid.axis_y), steps=int(grid.steps), extent=float(grid.extent))


def decode_request(
    latents: LatentsLike | None = None,
    *,
    count: int = 0,
    seed: int | None = None,
    grid: GridLike | None = None,
    model: str = "",
    model_version: str = "",
    output_format: str | int = "PNG",
) -> pb.DecodeRequest:
    req = pb.DecodeRequest(
        model_version=model_version,
        model=model,
        count=count,
        output_format=_enum(pb.ImageFormat, output_format, "output_format"),
    )
    if latents is not None:
        req.latents.extend(latents_to_proto(latents))
    _set_given(req, seed=seed)
    if grid is not None:
        req.grid.CopyFrom(_grid(grid))
    return req


def edit_request(
    image: ImageLike | None = None,
    *,
    latent: Sequence[float] | np.ndarray | None = None,
    edits: EditsLike | None = None,
    direction: Sequence[float] | np.ndarray | None = None,
    sweep_attribute: str | None = None,
    strengths: Sequence[float] = (),
    target_image: ImageLike | None = None,
    target_latent: Sequence[float] | np.ndarray | None = None,
    interpolation_steps: int = 0,
    interpolation: str | int = "LERP",
    model: str = "",
    model_version: str = "",
    output_format: str | int = "PNG",
) -> pb.EditLatentRequest:
    if (image is None) == (latent is None):
        raise ValueError("pass exactly one of image= or latent=")
    if target_image is not None and target_latent is not None:
        raise ValueError("pass at most one of target_image= or target_latent=")
    if direction is not None and sweep_attribute:
        raise ValueError("pass at most one of direction= or sweep_attribute=")
    req = pb.EditLatentRequest(
        model_version=model_version,
        model=model,
        strengths=[float(s) for s in strengths],
        interpolation_steps=interpolation_steps,
        interpolation=_enum(pb.Interpolation, interpolation, "interpolation"),
        output_format=_enum(pb.ImageFormat, output_format, "output_format"),
        sweep_attribute=sweep_attribute or "",
    )
    if image is not None:
        req.image.CopyFrom(images.to_proto(image))
    else:
        req.latent.CopyFrom(_vector(latent))  # type: ignore[arg-type]
    pairs = edits.items() if isinstance(edits, Mapping) else (edits or ())
    req.edits.extend(pb.AttributeEdit(attribute=a, strength=float(s)) for a, s in pairs)
    if direction is not None:
        req.direction.CopyFrom(_vector(direction))
    if target_image is not None:
        req.target_image.CopyFrom(images.to_proto(target_image))
    elif target_latent is not None:
        req.target_latent.CopyFrom(_vector(target_latent))
    return req

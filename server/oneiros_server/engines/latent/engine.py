"""The latent-space engine (VAE decoder/encoder or GAN generator): Decode and EditLatent.

Plain dataclasses in and out; field names mirror the proto so ``FieldError`` paths match
(``latents[3]``, ``grid.axis_x``, ``edits[0].attribute``). Decoder (and encoder) runs go through
a ``DynamicBatcher`` when batching is on, so concurrent requests share one ONNX Runtime run.
Images come back as uint8 ``(N, H, W, C)`` arrays (MNIST: white digits on black), whatever the
graph's layout (NHWC or NCHW) and pixel range (``spec.layout``, ``spec.pixel_range``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from oneiros_server.engines.base import EngineInfo
from oneiros_server.engines.latent.images import to_model_image
from oneiros_server.engines.latent.validate import Validator
from oneiros_server.engines.latent.vectors import grid_points, interpolate, prior_sample
from oneiros_server.errors import FieldError, WrongModelKind
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.onnx import OnnxRunner, RuntimeSteps, drive
from oneiros_server.scheduling.control import CallControl
from oneiros_server.settings import Settings
from oneiros_server.specs import LatentSpec

DEFAULT_GRID_STEPS = 10
DEFAULT_GRID_EXTENT = 2.0
DEFAULT_INTERPOLATION_STEPS = 8

ImageInput = Image.Image | np.ndarray  # decoded image, any size and mode


@dataclass
class Grid:
    axis_x: int = 0
    axis_y: int = 1
    steps: int = 0  # points per side; 0 = DEFAULT_GRID_STEPS (fewer if max images is lower)
    extent: float = 0.0  # covers [-extent, extent]; 0 = DEFAULT_GRID_EXTENT


@dataclass
class DecodeRequest:
    """Exactly one of: ``latents``; ``count`` (+ ``seed``) prior samples; ``grid``."""

    latents: Sequence[Sequence[float]] = ()
    count: int = 0
    seed: int | None = None
    grid: Grid | None = None


@dataclass
class AttributeEdit:
    attribute: str
    strength: float


@dataclass
class EditRequest:
    """Source (``image`` or ``latent``) -> edits -> optional sweep -> optional interpolation.

    Outputs: one image per strength of the sweep (along ``direction`` or ``sweep_attribute``),
    then ``interpolation_steps`` images towards the target; if neither is asked for, the one
    edited image.
    """

    image: ImageInput | None = None
    latent: Sequence[float] | None = None
    edits: Sequence[AttributeEdit] = ()
    direction: Sequence[float] | None = None
    strengths: Sequence[float] = ()
    sweep_attribute: str = ""
    target_image: ImageInput | None = None
    target_latent: Sequence[float] | None = None
    interpolation_steps: int = 0  # both ends included; 0 = DEFAULT_INTERPOLATION_STEPS
    interpolation: str = "LERP"  # or "SLERP"


@dataclass
class LatentResult:
    images: np.ndarray  # (N, H, W, C) uint8
    latents: np.ndarray  # (N, D) float32: the points decoded
    source_latent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # (D,), EditLatent


class LatentEngine:
    """Serves one VAE or GAN from its ONNX decoder (and, for a VAE, encoder)."""

    def __init__(self, manifest: Manifest, decoder: OnnxRunner, encoder: OnnxRunner | None, settings: Settings):
        spec = LatentSpec.model_validate(manifest.spec)
        self.name = manifest.name
        self.kind = manifest.kind
        self.latent_size = spec.latent_size
        self.image_shape = spec.image_shape  # (H, W, C)
        self.channels_first = spec.layout == "NCHW"
        self.pixel_low, self.pixel_high = spec.pixel_range
        self.attributes = {k: np.asarray(v, np.float32) for k, v in spec.attributes.items()}
        self.decoder, self.encoder = decoder, encoder
        self.check = Validator(self.latent_size, list(self.attributes), settings.max_images_per_request)
        self.info = EngineInfo(
            device=decoder.device,
            latent_size=self.latent_size,
            image_shape=self.image_shape,
            attributes=list(self.attributes),
        )

    # ---------------------------------------------------------------- lifecycle
    def warmup(self) -> None:
        drive(self._decode(np.zeros((1, self.latent_size), np.float32)))
        if self.encoder is not None:
            self.encoder.run(self._model_pixels(np.zeros((1, *self.image_shape), np.float32)), None)

    def close(self) -> None:
        self.decoder.close()
        if self.encoder is not None:
            self.encoder.close()

    # ---------------------------------------------------------------- Decode
    def decode(self, request: DecodeRequest, control: CallControl | None = None) -> LatentResult:
        """Decode points, prior samples or a grid (see ``DecodeRequest``), in this thread."""
        return drive(self.decode_steps(request), control)

    def decode_steps(self, request: DecodeRequest) -> RuntimeSteps:
        """``decode`` as runtime steps (``oneiros_server.runtime.onnx.drive_async`` runs them)."""
        modes = [
            name
            for name, given in (
                ("latents", len(request.latents) > 0),
                ("count", request.count > 0),
                ("grid", request.grid is not None),
            )
            if given
        ]
        if not modes:
            raise FieldError("latents", "give latents, a count of prior samples, or a grid")
        if len(modes) > 1:
            raise FieldError(modes[1], f"cannot be combined with {modes[0]}; give exactly one")
        if request.latents:
            self.check.count("latents", len(request.latents))
            z = np.stack([self.check.latent(f"latents[{i}]", v) for i, v in enumerate(request.latents)])
        elif request.count:
            self.check.count("count", request.count)
            z = prior_sample(request.count, self.latent_size, request.seed)
        else:
            z = self._grid(request.grid)
        images = yield from self._decode(z)
        return LatentResult(images, z)

    def _grid(self, grid: Grid) -> np.ndarray:
        for name in ("axis_x", "axis_y"):
            axis = getattr(grid, name)
            if not 0 <= axis < self.latent_size:
                raise FieldError(f"grid.{name}", f"is {axis}; axes are 0 to {self.latent_size - 1}")
        if grid.axis_x == grid.axis_y:
            raise FieldError("grid.axis_y", f"equals grid.axis_x ({grid.axis_x}); give two different axes")
        limit = int(np.sqrt(self.check.max_images))
        steps = grid.steps or min(DEFAULT_GRID_STEPS, limit)
        if not 2 <= steps <= limit:
            raise FieldError(
                "grid.steps",
                f"is {steps}; allowed 2 to {limit} (steps x steps images), 0 = {min(DEFAULT_GRID_STEPS, limit)}",
            )
        extent = grid.extent or DEFAULT_GRID_EXTENT
        if not (np.isfinite(extent) and 0 < extent <= self.check.max_abs):
            raise FieldError(
                "grid.extent", f"is {extent}; allowed (0, {self.check.max_abs:g}], 0 = {DEFAULT_GRID_EXTENT}"
            )
        return grid_points(self.latent_size, grid.axis_x, grid.axis_y, steps, float(extent))

    # ---------------------------------------------------------------- EditLatent
    def edit(self, request: EditRequest, control: CallControl | None = None) -> LatentResult:
        """Encode or take the source, apply edits, sweep and/or interpolate, decode (see ``EditRequest``)."""
        return drive(self.edit_steps(request), control)

    def edit_steps(self, request: EditRequest) -> RuntimeSteps:
        """``edit`` as runtime steps (``oneiros_server.runtime.onnx.drive_async`` runs them)."""
        source = yield from self._source(request.image, request.latent, "image", "latent", required=True)
        z = source.copy()
        for i, edit in enumerate(request.edits):
            vector = self.check.attribute(f"edits[{i}].attribute", edit.attribute, self.attributes)
            z = z + self.check.strength(f"edits[{i}].strength", edit.strength) * vector
        points = []
        direction = self._direction(request)
        if direction is not None:
            strengths = np.array(
                [self.check.strength(f"strengths[{i}]", s) for i, s in enumerate(request.strengths)], np.float32
            )
            points.append(z[None, :] + strengths[:, None] * direction[None, :])
        target = yield from self._source(
            request.target_image, request.target_latent, "target_image", "target_latent", required=False
        )
        if target is None and request.interpolation_steps:
            raise FieldError("interpolation_steps", "needs a target_image or target_latent to interpolate to")
        if target is not None:
            steps = request.interpolation_steps or DEFAULT_INTERPOLATION_STEPS
            if steps < 2:
                raise FieldError("interpolation_steps", f"is {steps}; both ends are included, so at least 2")
            if request.interpolation not in ("LERP", "SLERP"):
                raise FieldError("interpolation", f"is {request.interpolation!r}; use LERP or SLERP")
            self.check.count("interpolation_steps", steps + sum(len(p) for p in points))
            points.append(interpolate(z, target, steps, request.interpolation))
        z_out = np.concatenate(points) if points else z[None, :]
        self.check.finite_points("edits", z_out)
        images = yield from self._decode(z_out)
        return LatentResult(images, z_out, source)

    def _direction(self, request: EditRequest) -> np.ndarray | None:
        has_direction = request.direction is not None and len(request.direction) > 0
        if has_direction and request.sweep_attribute:
            raise FieldError("sweep_attribute", "give either a raw direction or a sweep_attribute, not both")
        if has_direction:
            direction = self.check.latent("direction", request.direction)
        elif request.sweep_attribute:
            direction = self.check.attribute("sweep_attribute", request.sweep_attribute, self.attributes)
        else:
            if len(request.strengths):
                raise FieldError("strengths", "a sweep needs a direction or a sweep_attribute")
            return None
        if not len(request.strengths):
            raise FieldError("strengths", "a sweep needs at least one strength")
        self.check.count("strengths", len(request.strengths))
        return direction

    def _source(self, image, latent, image_field: str, latent_field: str, required: bool):
        if image is not None and latent is not None:
            raise FieldError(latent_field, f"give either {image_field} or {latent_field}, not both")
        if latent is not None:
            return self.check.latent(latent_field, latent)
        if image is not None:
            return (yield from self._encode(image, image_field))
        if required:
            raise FieldError("source", f"give an {image_field} or a {latent_field}")
        return None

    def require_encoder(self, field: str) -> None:
        """Raise WrongModelKind if this model cannot encode the image given in ``field``."""
        if self.encoder is None:
            raise WrongModelKind(
                f"model {self.name!r} is a {self.kind} without an encoder, so it cannot take an image "
                f"({field}); send a latent instead, or use a VAE model for images"
            )

    def _encode(self, image: ImageInput, field: str) -> RuntimeSteps:
        self.require_encoder(field)
        height, width, channels = self.image_shape
        try:
            pixels = to_model_image(image, self.image_shape)  # (H, W, C) in [0, 1]
        except ValueError:
            raise FieldError(field, f"image could not be converted to {height}x{width}x{channels}") from None
        encoded = yield (self.encoder, self._model_pixels(pixels[None]))
        return encoded[0]

    def _model_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(N, H, W, C) in [0, 1] -> what the encoder takes (its layout and pixel range)."""
        x = pixels * (self.pixel_high - self.pixel_low) + self.pixel_low
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.channels_first else x, np.float32)

    # ---------------------------------------------------------------- runtime
    def _decode(self, z: np.ndarray) -> RuntimeSteps:
        pixels = yield (self.decoder, np.ascontiguousarray(z, np.float32))  # (N, H, W, C) or (N, C, H, W)
        if self.channels_first:
            pixels = pixels.transpose(0, 2, 3, 1)
        if (self.pixel_low, self.pixel_high) != (0.0, 1.0):
            pixels = (pixels - self.pixel_low) / (self.pixel_high - self.pixel_low)
        pixels = np.nan_to_num(pixels, nan=0.0, posinf=1.0, neginf=0.0)
        return (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def load(manifest: Manifest, version_dir: Path, settings: Settings) -> LatentEngine:
    """Factory for kinds VAE and GAN: ONNX decoder ("decoder" or "generator") and optional "encoder"."""
    spec = LatentSpec.model_validate(manifest.spec)
    role = spec.decoder_role(manifest.files)
    decoder_io = spec.decoder_io(role)
    decoder = OnnxRunner(
        version_dir / manifest.files[role].path,
        settings,
        f"{manifest.name}-{role}",
        decoder_io.input,
        decoder_io.output,
    )
    encoder = None
    if "encoder" in manifest.files:
        encoder_io = spec.encoder_io()
        encoder = OnnxRunner(
            version_dir / manifest.files["encoder"].path,
            settings,
            f"{manifest.name}-encoder",
            encoder_io.input,
            encoder_io.outputs[0],
        )
    return LatentEngine(manifest, decoder, encoder, settings)

"""The latent-space engine (VAE decoder/encoder or GAN generator): Decode and EditLatent.

Plain dataclasses in and out (``requests.py``); field names mirror the proto so ``FieldError``
paths match (``latents[3]``, ``grid.axis_x``, ``edits[0].attribute``). Decoder (and encoder) runs go through
a ``LoopBatcher`` when batching is on, so concurrent requests share one ONNX Runtime run.
Images come back as uint8 ``(N, H, W, C)`` arrays (MNIST: white digits on black), whatever the
graph's layout (NHWC or NCHW) and pixel range (``spec.layout``, ``spec.pixel_range``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from oneiros_server.engines.base import EngineInfo, FamilyEngine
from oneiros_server.engines.latent.images import to_model_image
from oneiros_server.engines.latent.requests import (
    DEFAULT_GRID_EXTENT,
    DEFAULT_GRID_STEPS,
    DEFAULT_INTERPOLATION_STEPS,
    DecodeRequest,
    EditParams,
    EditRequest,
    Grid,
    ImageSource,
    LatentResult,
)
from oneiros_server.engines.latent.validate import Validator
from oneiros_server.engines.latent.vectors import grid_points, interpolate, prior_sample
from oneiros_server.errors import FieldError, WrongModelKind
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.onnx import OnnxRunner
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.loop import LoopBatcher
from oneiros_server.settings import Settings
from oneiros_server.specs import LatentSpec


class LatentEngine:
    """Serves one VAE or GAN from its ONNX decoder (and, for a VAE, encoder).

    Engines: ``Decode`` (params: the (N, D) float32 points to decode) and ``EditLatent``
    (params: ``EditParams``); each yields one ``LatentResult``.
    """

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
        self.decoder_batcher = _batcher(decoder, settings)
        self.encoder_batcher = _batcher(encoder, settings) if encoder is not None else None
        self.check = Validator(self.latent_size, list(self.attributes), settings.max_images_per_request)
        self.info = EngineInfo(
            device=decoder.device,
            latent_size=self.latent_size,
            image_shape=self.image_shape,
            attributes=list(self.attributes),
        )
        self.engines = {
            "Decode": FamilyEngine(self.validate_decode, self.submit_decode),
            "EditLatent": FamilyEngine(self.validate_edit, self.submit_edit),
        }

    # ---------------------------------------------------------------- lifecycle
    def warmup(self) -> None:
        self.decoder.run(np.zeros((1, self.latent_size), np.float32))
        if self.encoder is not None:
            self.encoder.run(self._model_pixels(np.zeros((1, *self.image_shape), np.float32)))

    def close(self) -> None:
        for batcher in (self.decoder_batcher, self.encoder_batcher):
            if batcher is not None:
                batcher.close()

    # ---------------------------------------------------------------- Decode
    def validate_decode(self, request: DecodeRequest) -> np.ndarray:
        """The (N, D) float32 points to decode: given latents, prior samples or a grid."""
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
            return np.stack([self.check.latent(f"latents[{i}]", v) for i, v in enumerate(request.latents)])
        if request.count:
            self.check.count("count", request.count)
            return prior_sample(request.count, self.latent_size, request.seed)
        return self._grid(request.grid)

    def submit_decode(self, z: np.ndarray, control: CallControl) -> AsyncIterator[LatentResult]:
        """Decode validated points; one event, the ``LatentResult``."""
        return self._decode_result(z)

    async def _decode_result(self, z: np.ndarray) -> AsyncIterator[LatentResult]:
        yield LatentResult(await self._decode(z), z)

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
    def validate_edit(self, request: EditRequest) -> EditParams:
        """Every check of an EditRequest (see ``EditRequest``); images become 28x28 digits."""
        source, source_is_image = self._source(request.image, request.latent, "image", "latent", required=True)
        edits = []
        for i, edit in enumerate(request.edits):
            vector = self.check.attribute(f"edits[{i}].attribute", edit.attribute, self.attributes)
            edits.append((self.check.strength(f"edits[{i}].strength", edit.strength), vector))
        direction = self._direction(request)
        strengths = None
        if direction is not None:
            strengths = np.array(
                [self.check.strength(f"strengths[{i}]", s) for i, s in enumerate(request.strengths)], np.float32
            )
        target, target_is_image = self._source(
            request.target_image, request.target_latent, "target_image", "target_latent", required=False
        )
        steps = 0
        if target is None and request.interpolation_steps:
            raise FieldError("interpolation_steps", "needs a target_image or target_latent to interpolate to")
        if target is not None:
            steps = request.interpolation_steps or DEFAULT_INTERPOLATION_STEPS
            if steps < 2:
                raise FieldError("interpolation_steps", f"is {steps}; both ends are included, so at least 2")
            if request.interpolation not in ("LERP", "SLERP"):
                raise FieldError("interpolation", f"is {request.interpolation!r}; use LERP or SLERP")
            self.check.count("interpolation_steps", steps + (len(strengths) if strengths is not None else 0))
        return EditParams(
            source,
            source_is_image,
            tuple(edits),
            strengths,
            direction,
            target,
            target_is_image,
            steps,
            request.interpolation,
        )

    def submit_edit(self, params: EditParams, control: CallControl) -> AsyncIterator[LatentResult]:
        """Encode the images, apply the edits, sweep and/or interpolate, decode; one event."""
        return self._edit_result(params)

    async def _edit_result(self, p: EditParams) -> AsyncIterator[LatentResult]:
        source = await self._encode(p.source) if p.source_is_image else p.source
        z = source.copy()
        for strength, vector in p.edits:
            z = z + strength * vector
        points = []
        if p.direction is not None and p.strengths is not None:
            points.append(z[None, :] + p.strengths[:, None] * p.direction[None, :])
        if p.target is not None:
            target = await self._encode(p.target) if p.target_is_image else p.target
            points.append(interpolate(z, target, p.steps, p.interpolation))
        z_out = np.concatenate(points) if points else z[None, :]
        self.check.finite_points("edits", z_out)
        yield LatentResult(await self._decode(z_out), z_out, source)

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
        """(latent or digit, is it a digit) from one of the two fields, or (None, False)."""
        if image is not None and latent is not None:
            raise FieldError(latent_field, f"give either {image_field} or {latent_field}, not both")
        if latent is not None:
            return self.check.latent(latent_field, latent), False
        if image is not None:
            return self._image_pixels(image, image_field), True
        if required:
            raise FieldError("source", f"give an {image_field} or a {latent_field}")
        return None, False

    def require_encoder(self, field: str) -> None:
        """Raise WrongModelKind if this model cannot encode the image given in ``field``."""
        if self.encoder is None:
            raise WrongModelKind(
                f"model {self.name!r} is a {self.kind} without an encoder, so it cannot take an image "
                f"({field}); send a latent instead, or use a VAE model for images"
            )

    def _image_pixels(self, image: ImageSource, field: str) -> np.ndarray:
        self.require_encoder(field)
        if callable(image):
            image = image()
        height, width, channels = self.image_shape
        try:
            return to_model_image(image, self.image_shape)  # (H, W, C) in [0, 1]
        except ValueError:
            raise FieldError(field, f"image could not be converted to {height}x{width}x{channels}") from None

    def _model_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(N, H, W, C) in [0, 1] -> what the encoder takes (its layout and pixel range)."""
        x = pixels * (self.pixel_high - self.pixel_low) + self.pixel_low
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.channels_first else x, np.float32)

    # ---------------------------------------------------------------- runtime
    async def _encode(self, pixels: np.ndarray) -> np.ndarray:
        assert self.encoder is not None
        x = self._model_pixels(pixels[None])
        batcher = self.encoder_batcher  # cancelling the caller drops a queued x at once
        return (self.encoder.run(x) if batcher is None else await batcher.run(x, size=1))[0]

    async def _decode(self, z: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(z, np.float32)
        batcher = self.decoder_batcher
        pixels = self.decoder.run(x) if batcher is None else await batcher.run(x, size=len(x))  # NHWC or NCHW
        if self.channels_first:
            pixels = pixels.transpose(0, 2, 3, 1)
        if (self.pixel_low, self.pixel_high) != (0.0, 1.0):
            pixels = (pixels - self.pixel_low) / (self.pixel_high - self.pixel_low)
        pixels = np.nan_to_num(pixels, nan=0.0, posinf=1.0, neginf=0.0)
        return (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _batcher(runner: OnnxRunner, settings: Settings) -> LoopBatcher | None:
    """Concurrent calls share one session run (``settings.batching``), else each runs alone on the loop."""
    if not settings.batching:
        return None
    return LoopBatcher(
        runner.run_batch,
        name=runner.name,
        max_size=settings.batch_max_size,
        max_queue=settings.batch_queue_size,
        on_loop=settings.batch_on_loop,
    )


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

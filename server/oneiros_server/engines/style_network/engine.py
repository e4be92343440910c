"""STYLE_NETWORK engine: Stylize with a feed-forward network trained for one painting.

``model.json``::

    "kind": "STYLE_NETWORK", "runtime": "onnxruntime",
    "files": {"network": {"path": "model.onnx", ...}, "painting": {"path": "painting.jpg", ...}},
    "spec": {"painting": {"file": "painting.jpg", "title": "..."}, "multiple": 4, "intra_op_threads": 0,
             "architecture": {...}},
    "parameters": {"stylize": {"max_side": 1024}}

A request takes only ``content`` (and ``max_side``, ``preserve_color``, ``output_format``,
``preview_every``): the style is the network's own, so a ``style`` image or a field of
Gatys' optimisation is a ``FieldError`` naming it. The content is reduced (never
enlarged) to ``max_side``, stylised in one ONNX Runtime run, batched with concurrent
requests (``runtime.style_network``), and comes back at that size; ``preserve_color``
keeps the content's chroma and takes the network's luminance, as Gatys does.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from oneiros_server.engines.base import EngineInfo, FamilyEngine
from oneiros_server.engines.convnet.stylize_params import FORMATS, MIN_SIDE, StylizeParams, StylizeResult, fit
from oneiros_server.errors import FieldError, Overloaded
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.style_network import StyleNetworkRunner, crop_back, pad_to_multiple
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.loop import LoopBatcher
from oneiros_server.settings import Settings

DEFAULT_MAX_SIDE = 1024
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601, as Gatys' preserve_color
# Gatys-only fields and the value that means "unset" in StylizeParams.
GATYS_FIELDS = {
    "content_weight": None,
    "style_weight": None,
    "tv_weight": None,
    "style_layers": {},
    "content_layers": [],
    "steps": 0,
    "optimizer": "LBFGS",
    "learning_rate": None,
    "init": "CONTENT",
    "seed": None,
    "coarse_to_fine": False,
}


class StyleNetworkEngine:
    """One style network's engine set: ``Stylize`` (validate, then one batched network run)."""

    def __init__(self, manifest: Manifest, runner: StyleNetworkRunner, settings: Settings):
        self.manifest = manifest
        self.runner = runner
        self.settings = settings
        self.default_max_side = int(manifest.parameters.get("stylize", {}).get("max_side", DEFAULT_MAX_SIDE))
        self.info = EngineInfo(device=runner.device)
        self.engines = {"Stylize": FamilyEngine(self.validate, self.submit)}
        self.batcher: LoopBatcher | None = None  # coalesces concurrent calls, on its own thread
        if settings.batching:
            self.batcher = LoopBatcher(
                runner.run_batch,
                name=f"{manifest.name}-{manifest.version}",
                max_size=settings.batch_max_size,
                max_queue=settings.batch_queue_size,
                inline_first=False,
            )

    def validate(self, p: StylizeParams) -> StylizeParams:
        """Refuse what a style network cannot take (FieldError naming the field), decode the
        content (after checking for room: a full queue refuses before any decoding), fill ``max_side``."""
        if p.style is not None:
            raise FieldError("style", f"model {self.manifest.name!r} is a style network with its own style; omit style")
        for name, unset in GATYS_FIELDS.items():
            if getattr(p, name) != unset:
                raise FieldError(
                    name,
                    f"applies to Gatys' optimisation only; style network {self.manifest.name!r} takes only content",
                )
        self.check_room()
        p = replace(p, content=p.content() if callable(p.content) else p.content)  # the transport's decoder
        if p.output_format not in FORMATS:
            raise FieldError("output_format", f"must be one of {', '.join(FORMATS)}, got {p.output_format!r}")
        limit = self.settings.job_max_side
        max_side = p.max_side or min(self.default_max_side, limit)
        if not MIN_SIDE <= max_side <= limit:
            raise FieldError("max_side", f"must be between {MIN_SIDE} and {limit} px (0 = default), got {max_side}")
        if p.content.ndim != 3 or p.content.shape[2] != 3 or min(p.content.shape[:2]) < MIN_SIDE:
            raise FieldError("content", f"an RGB image with both sides at least {MIN_SIDE} px is required")
        return replace(p, max_side=max_side)

    def check_room(self) -> None:
        """Overloaded now when the batcher's queue is full (it checks again on submit)."""
        batcher = self.batcher
        if batcher is not None and batcher.depth >= batcher.max_queue:
            raise Overloaded(f"{batcher.name} queue is full ({batcher.depth} queued)", 0.05)

    async def stylize(self, p: StylizeParams) -> StylizeResult:
        """Stylise validated params: resize to ``max_side``, one batched network run, colour."""
        started = time.monotonic()
        content = p.content.astype(np.float32, copy=False)
        h, w = fit(*content.shape[:2], p.max_side)
        if (h, w) != content.shape[:2]:
            resized = Image.fromarray((np.clip(content, 0, 1) * 255 + 0.5).astype(np.uint8))
            content = np.asarray(resized.resize((w, h), Image.Resampling.LANCZOS), dtype=np.float32) / 255
        image = await self._run(content)
        if p.preserve_color:  # YIQ with I and Q kept: the luminance change goes to R, G and B alike
            image = np.clip(content + ((image - content) @ LUMA)[..., None], 0.0, 1.0)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return StylizeResult(
            image=image, loss_history=[], content_loss=0.0, style_loss=0.0, tv_loss=0.0, elapsed_ms=elapsed_ms
        )

    async def _run(self, image: np.ndarray) -> np.ndarray:
        """One network run, batched with concurrent calls; cancelling drops a queued image."""
        x = pad_to_multiple(image, self.runner.multiple)
        out = self.runner.run_batch([x])[0] if self.batcher is None else await self.batcher.run(x, size=1)
        return crop_back(out, *image.shape[:2])

    def submit(self, params: StylizeParams, control: CallControl) -> AsyncIterator[StylizeResult]:
        """Queue validated params (Overloaded at once when the queue is full); one event, the result."""
        self.check_room()
        return self._result(params)

    async def _result(self, params: StylizeParams) -> AsyncIterator[StylizeResult]:
        yield await self.stylize(params)

    def warmup(self) -> None:
        self.runner.run(np.zeros((64, 64, 3), dtype=np.float32))

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()


def load(manifest: Manifest, version_dir: Path, settings: Settings) -> StyleNetworkEngine:
    network = manifest.files.get("network")
    if network is None:
        raise ValueError("a STYLE_NETWORK model.json needs files.network (the ONNX graph)")
    multiple = int(manifest.spec.get("multiple", 4))
    threads = manifest.spec.get("intra_op_threads")  # None: the server's ort_threads
    runner = StyleNetworkRunner(version_dir / network.path, settings, multiple, threads)
    return StyleNetworkEngine(manifest, runner, settings)

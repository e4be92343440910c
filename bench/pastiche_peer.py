"""pastiche 1.6.0 as a peer for the Stylize benchmark: its arguments for our weights, and a timed run."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from pastiche.pastiche import PasticheArtist

CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}


def pastiche_name(layer: str) -> str:
    return layer.replace("_conv", "_relu")  # pastiche names the post-ReLU output block4_relu2


def pastiche_weights(d: dict) -> dict:
    """Oneiros' weights as pastiche's arguments (its Gram is / (H W), ours / (C H W); its TV is
    on 0-255 pixels and halved; its content loss is a weighted sum over layers, ours a mean)."""
    style = {k: v for k, v in d["style_layers"].items() if v}
    n_content = len(d["content_layers"])
    return dict(
        content_layers=[pastiche_name(n) for n in d["content_layers"]],
        content_layer_weights=[d["content_weight"] / n_content] * n_content,
        content_weight=1.0,
        style_layers=[pastiche_name(n) for n in style],
        style_layer_weights=[d["style_weight"] * w / CHANNELS[int(n[5])] ** 2 for n, w in style.items()],
        style_weights=[1.0],
        tv_weight=2.0 * d["tv_weight"] / 255.0,
    )


def pastiche_to_rgb(x: torch.Tensor) -> np.ndarray:
    """pastiche's BGR, mean-subtracted 0-255 tensor -> (H, W, 3) uint8, as its save_image does."""
    x = x.detach()[0].clone()
    for i, shift in enumerate((103.939, 116.779, 123.68)):
        x[i] += shift
    return x[[2, 1, 0]].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def preload_pastiche_vgg() -> None:
    """pastiche loads its weights per artist (per request); a server loads them once, so
    load them once here too and keep that out of the timings."""
    import pastiche.pastiche as module

    model = module.VGG19.from_quantized_bin(
        str(Path(module.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    )
    module.VGG19 = type(
        "PreloadedVGG19", (module.VGG19,), {"from_quantized_bin": staticmethod(lambda path, pooling="max": model)}
    )


def run_pastiche(content_path, style_path, hw, shw, d, steps, own_defaults: bool = False) -> dict:
    """``steps`` L-BFGS steps of pastiche with our weights ``d`` (or, ``own_defaults``, its own)."""
    started = time.perf_counter()
    weights = {} if own_defaults else pastiche_weights(d)
    artist = PasticheArtist(
        content_path, [style_path], optimizer="lbfgs", device="cpu", size=hw, style_size=shw, **weights
    )
    first_loss = artist.loss
    step_times = []
    for _ in range(steps):
        t = time.perf_counter()
        artist.draw()
        step_times.append(time.perf_counter() - t)
    return dict(
        wall_s=time.perf_counter() - started,
        step_s=statistics.median(step_times),
        first_loss=first_loss,
        evaluations_per_step=1.0,  # and one forward-only pass at set-up
        image=pastiche_to_rgb(artist.pastiche),
    )

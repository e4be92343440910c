"""Does a bfloat16 backbone pay for training style networks here? CPU seconds per training step.

Runs the trainer's own step (``style_train.batch_loss``: the network, the backbone on the
photos and on the outputs, the Gatys objective, backward, Adam) with the backbone in
float32 and in bfloat16 autocast, alternating, on one thread. It reports CPU time per step
(``time.process_time``), which a shared machine's load does not inflate the way it does
wall time, and the loss of the first step in each precision (they should agree closely).

    python -m bench.style_train_bench --sizes 128 256 --steps 4
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from bench.common import cpu_bf16_report, describe_cpu, print_table, write_results
from oneiros_server.runtime.precision import Precision
from oneiros_server.runtime.vgg19 import load_vgg19
from oneiros_training.style_net import StyleNet, StyleNetConfig
from oneiros_training.style_train import CropSampler, batch_loss, read_rgb, style_grams, stylize_defaults
from oneiros_training.style_train import loss_weights as trainer_weights


def step_cpu_seconds(backbone, precision, sampler, grams, weights, batch: int, steps: int) -> tuple[float, float]:
    """(median CPU seconds per step, first step's loss) for a fresh network."""
    torch.manual_seed(0)
    net = StyleNet(StyleNetConfig())
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    times, first = [], None
    for _ in range(steps):
        content = sampler.batch(batch)
        started = time.process_time()
        parts = batch_loss(backbone, precision, net.raw(content), content, grams, weights)
        optimizer.zero_grad()
        parts.total.backward()
        optimizer.step()
        times.append(time.process_time() - started)
        first = float(parts.total.detach()) if first is None else first
    return statistics.median(times), first


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--painting", default="docs/img/style-starry-night.jpg")
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(1)
    cpu = cpu_bf16_report()
    print(describe_cpu(cpu), flush=True)
    backbone = load_vgg19()
    weights = trainer_weights(argparse.Namespace(content_weight=None, style_weight=None, tv_weight=None))
    painting, layers = read_rgb(args.painting), list(weights.style_layers)
    assert stylize_defaults()["content_layers"] == list(weights.content_layers)
    rows, results = [], {"cpu": cpu, "sizes": {}}
    for size in args.sizes:
        figures = {}
        for name in ("fp32", "bf16"):
            precision = Precision(name, "cpu")  # type: ignore[arg-type]
            grams = style_grams(backbone, precision, painting, 448, layers)
            sampler = CropSampler(
                [np.asarray(painting[0].permute(1, 2, 0) * 255, dtype=np.uint8)], size, np.random.default_rng(0)
            )
            figures[name] = step_cpu_seconds(backbone, precision, sampler, grams, weights, args.batch, args.steps)
        ratio = figures["bf16"][0] / figures["fp32"][0]
        results["sizes"][size] = {k: {"cpu_s_per_step": v[0], "first_loss": v[1]} for k, v in figures.items()}
        results["sizes"][size]["bf16_over_fp32"] = ratio
        rows.append([f"{size} px x {args.batch}", figures["fp32"][0], figures["bf16"][0], ratio])
    print_table(["crops", "fp32 CPU s/step", "bf16 CPU s/step", "bf16 / fp32"], rows)
    print(write_results("style_train", results))


if __name__ == "__main__":
    main()

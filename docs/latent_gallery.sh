#!/usr/bin/env bash
# Makes the latent-space pictures of README.md and docs/latent.md with the `oneiros`
# CLI against a running server (default localhost:50051, or ONEIROS_TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ONEIROS_BIN:-.venv/bin}
img=docs/img
# Two held-out MNIST digits (test split) as input images.
"$bin/python" - <<'PY'
from PIL import Image
import numpy as np
from oneiros_training.mnist import load_mnist
test = load_mnist()["test"]
for name, index in (("digit-a", 3), ("digit-b", 2)):
    pixels = (test.images[index, 0].numpy() * 255).astype(np.uint8)
    Image.fromarray(pixels).resize((112, 112), Image.Resampling.NEAREST).save(f"docs/img/{name}.png")
PY
"$bin/oneiros" decode --model vae-mnist-2d --grid 0 1 --steps 15 -o $img/latent-grid.png
"$bin/oneiros" decode --model vae-mnist-16d --count 64 --seed 7 --scale 2 -o $img/vae-samples.png
"$bin/oneiros" decode --model gan-mnist --count 64 --seed 7 --scale 2 -o $img/gan-samples.png
"$bin/oneiros" edit $img/digit-a.png --model vae-mnist-16d --sweep thickness --strengths -2,-1,0,1,2,3 --scale 3 -o $img/sweep-thickness.png
"$bin/oneiros" edit $img/digit-a.png --model vae-mnist-16d --sweep slant --strengths -2,-1,0,1,2,3 --scale 3 -o $img/sweep-slant.png
"$bin/oneiros" edit $img/digit-a.png --model vae-mnist-16d --sweep digit_8 --strengths 0,0.5,1,1.5,2,2.5 --scale 3 -o $img/sweep-class8.png
"$bin/oneiros" edit $img/digit-a.png --model vae-mnist-16d --target $img/digit-b.png --steps 8 --slerp --scale 3 -o $img/vae-interpolation.png
